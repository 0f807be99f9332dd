//! Decoding Snowflake's Arrow IPC result streams.
//!
//! `snowflake-api`'s own decoder validates strictly and rejects results in
//! which a child of a struct declared non-nullable holds nulls. Local
//! emulators (fakesnow) encode `NULL` timestamps that way: a valid
//! `{epoch, fraction}` struct whose `epoch` is null. This decoder reads the
//! stream message by message against the same schema with every struct
//! child relaxed to nullable, which keeps full validation otherwise; the
//! value conversion then reads a null epoch as SQL `NULL`.
//!
//! `arrow-ipc` panics on some malformed schemas; [`decode_stream`] turns
//! such panics into errors.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_buffer::Buffer;
use arrow_ipc::convert::fb_to_schema;
use arrow_ipc::reader::{read_dictionary, read_record_batch};
use arrow_ipc::{Endianness, MessageHeader, root_as_message};
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef};

/// Marks the start of each message in the current IPC format.
const CONTINUATION: u32 = 0xFFFF_FFFF;

/// Decodes one Arrow IPC stream into record batches.
pub(crate) fn decode_stream(bytes: &[u8]) -> Result<Vec<RecordBatch>, String> {
    catch_unwind(AssertUnwindSafe(|| decode(bytes)))
        .unwrap_or_else(|_| Err("malformed Arrow stream".to_owned()))
}

fn read_u32(bytes: &[u8], at: usize) -> Result<u32, String> {
    let b = bytes
        .get(at..at + 4)
        .ok_or_else(|| format!("Arrow stream truncated at byte {at}"))?;
    Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn decode(bytes: &[u8]) -> Result<Vec<RecordBatch>, String> {
    let mut pos = 0usize;
    let mut schema: Option<SchemaRef> = None;
    let mut dictionaries: HashMap<i64, ArrayRef> = HashMap::new();
    let mut batches = Vec::new();
    while pos < bytes.len() {
        let mut word = read_u32(bytes, pos)?;
        pos += 4;
        if word == CONTINUATION {
            word = read_u32(bytes, pos)?;
            pos += 4;
        }
        let meta_len = word as usize;
        if meta_len == 0 {
            break; // end-of-stream marker
        }
        let meta_end = pos
            .checked_add(meta_len)
            .filter(|&e| e <= bytes.len())
            .ok_or("Arrow stream truncated in a message header")?;
        let message = root_as_message(&bytes[pos..meta_end])
            .map_err(|e| format!("bad Arrow message header: {e}"))?;
        let body_len = usize::try_from(message.bodyLength())
            .map_err(|_| "negative Arrow body length".to_owned())?;
        let body_end = meta_end
            .checked_add(body_len)
            .filter(|&e| e <= bytes.len())
            .ok_or("Arrow stream truncated in a message body")?;
        let body = Buffer::from(&bytes[meta_end..body_end]);
        let version = message.version();
        match message.header_type() {
            MessageHeader::Schema => {
                let fb = message
                    .header_as_schema()
                    .ok_or("bad Arrow schema message")?;
                if fb.fields().is_none() {
                    return Err("Arrow schema without fields".to_owned());
                }
                if fb.endianness() != Endianness::Little {
                    return Err("big-endian Arrow data is not supported".to_owned());
                }
                schema = Some(Arc::new(relax_schema(&fb_to_schema(fb))));
            }
            MessageHeader::DictionaryBatch => {
                let s = schema
                    .as_ref()
                    .ok_or("Arrow dictionary before the schema")?;
                let batch = message
                    .header_as_dictionary_batch()
                    .ok_or("bad Arrow dictionary message")?;
                read_dictionary(&body, batch, s, &mut dictionaries, &version)
                    .map_err(|e| e.to_string())?;
            }
            MessageHeader::RecordBatch => {
                let s = schema
                    .clone()
                    .ok_or("Arrow record batch before the schema")?;
                let batch = message
                    .header_as_record_batch()
                    .ok_or("bad Arrow record batch message")?;
                batches.push(
                    read_record_batch(&body, batch, s, &dictionaries, None, &version)
                        .map_err(|e| e.to_string())?,
                );
            }
            other => return Err(format!("unexpected Arrow message {other:?}")),
        }
        pos = body_end;
    }
    Ok(batches)
}

/// The schema with every child of a struct made nullable.
fn relax_schema(schema: &Schema) -> Schema {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| relax_field(f, false))
        .collect();
    Schema::new_with_metadata(fields, schema.metadata().clone())
}

fn relax_field(field: &Field, make_nullable: bool) -> Field {
    let data_type = match field.data_type() {
        DataType::Struct(children) => DataType::Struct(Fields::from(
            children
                .iter()
                .map(|c| relax_field(c, true))
                .collect::<Vec<_>>(),
        )),
        other => other.clone(),
    };
    field
        .clone()
        .with_data_type(data_type)
        .with_nullable(field.is_nullable() || make_nullable)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Int32Array, Int64Array, StructArray};
    use arrow_ipc::writer::StreamWriter;

    fn stream(batch: &RecordBatch) -> Vec<u8> {
        let mut out = Vec::new();
        let mut w = StreamWriter::try_new(&mut out, &batch.schema()).unwrap();
        w.write(batch).unwrap();
        w.finish().unwrap();
        drop(w);
        out
    }

    #[test]
    fn reads_a_plain_stream() {
        let schema = Arc::new(Schema::new(vec![Field::new("A", DataType::Int64, true)]));
        let batch =
            RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(vec![1, 2]))]).unwrap();
        let out = decode_stream(&stream(&batch)).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].num_rows(), 2);
        assert_eq!(out[0].schema().field(0).name(), "A");
    }

    #[test]
    fn accepts_nulls_in_non_nullable_struct_children() {
        // What fakesnow sends for a NULL timestamp: the struct is valid but
        // its non-nullable epoch is null. Built with nullable children (so
        // the writer accepts it), then the schema message is swapped for
        // one declaring the children non-nullable.
        let nullable = Fields::from(vec![
            Field::new("epoch", DataType::Int64, true),
            Field::new("fraction", DataType::Int32, true),
        ]);
        let s = StructArray::new(
            nullable.clone(),
            vec![
                Arc::new(Int64Array::from(vec![Some(5), None])),
                Arc::new(Int32Array::from(vec![Some(0), None])),
            ],
            None,
        );
        let schema = Arc::new(Schema::new(vec![Field::new(
            "TS",
            DataType::Struct(nullable),
            true,
        )]));
        let batch = RecordBatch::try_new(schema, vec![Arc::new(s)]).unwrap();
        let bytes = stream(&batch);

        let strict_fields = Fields::from(vec![
            Field::new("epoch", DataType::Int64, false),
            Field::new("fraction", DataType::Int32, false),
        ]);
        let strict = Schema::new(vec![Field::new(
            "TS",
            DataType::Struct(strict_fields),
            true,
        )]);
        let mut strict_header = Vec::new();
        StreamWriter::try_new(&mut strict_header, &strict).unwrap();
        // Replace the original schema message with the strict one.
        let first_len = 8 + read_u32(&bytes, 4).unwrap() as usize;
        let mut patched = strict_header.clone();
        patched.extend_from_slice(&bytes[first_len..]);

        // The strict reader refuses it …
        let strict_read: Result<Vec<_>, _> =
            arrow_ipc::reader::StreamReader::try_new(patched.as_slice(), None)
                .unwrap()
                .collect();
        assert!(strict_read.is_err());
        // … this decoder reads it.
        let out = decode_stream(&patched).unwrap();
        assert_eq!(out[0].num_rows(), 2);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(decode_stream(&[1, 2, 3]).is_err());
        assert!(decode_stream(&[0xFF, 0xFF, 0xFF, 0xFF, 100, 0, 0, 0, 1, 2]).is_err());
        assert!(
            decode_stream(&[0xFF, 0xFF, 0xFF, 0xFF, 8, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]).is_err()
        );
        assert_eq!(decode_stream(&[]).unwrap().len(), 0);
    }
}
