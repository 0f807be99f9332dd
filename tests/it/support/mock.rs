//! The library's in-memory warehouse (`src/warehouse/mock.rs`), which is
//! compiled into the library for its unit tests only.

use cio_sql::warehouse::{Executed, Rows, Warehouse, WarehouseError};

#[path = "../../../src/warehouse/mock.rs"]
mod imp;

pub use imp::{MockReply, MockWarehouse};
