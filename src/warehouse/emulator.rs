//! Host override: the middleware installed only when
//! [`SnowflakeConfig::host`](super::SnowflakeConfig::host) is set.
//!
//! `snowflake-api` 0.14 always talks to
//! `https://{account}.snowflakecomputing.com`. This layer rewrites those
//! URLs to the override base URL (plain HTTP allowed: a proxy, a private
//! link, an emulator) and, only when the target says it is an emulator
//! ([`SnowflakeConfig::emulator`](super::SnowflakeConfig::emulator), never
//! inferred from `host`), completes the replies of a local emulator such as
//! fakesnow, which leaves out fields that `snowflake-api` insists on:
//!
//! * login: `masterToken`, `sessionId`, `validityInSeconds`,
//!   `masterValidityInSeconds`, `sessionInfo.roleName`;
//! * successful queries: `returned`, `version`, `finalRoleName`,
//!   `parameters`;
//! * failed queries: `age`, `internalError`, `queryId`, `sqlState`.
//!
//! Fields that are present are never changed.

use http::Extensions;
use reqwest::{Request, Response, Url};
use reqwest_middleware::{Middleware, Next};
use serde_json::{Map, Value, json};

use super::transport::{Endpoint, read_reply, rebuild};

/// Token lifetime filled in for emulators, which never expire tokens and
/// cannot renew them: one week, longer than any run.
pub(crate) const EMULATOR_TOKEN_VALIDITY_SECS: i64 = 7 * 24 * 3600;

/// Role reported when the login named none.
const DEFAULT_ROLE: &str = "PUBLIC";

/// Rewrites Snowflake URLs to the override base and patches replies.
pub(crate) struct HostOverride {
    base: Url,
    /// `{account}.snowflakecomputing.com`, lower case.
    account_host: String,
    /// Role reported in patched replies.
    role: String,
    /// Whether replies are completed (an emulator).
    patch: bool,
}

impl HostOverride {
    /// A rewriter for `account` to `base` (an `http(s)://host[:port][/path]`
    /// URL); with `patch`, one that also completes an emulator's replies.
    pub(crate) fn new(
        account: &str,
        base: &str,
        role: Option<&str>,
        patch: bool,
    ) -> Result<Self, String> {
        let base = Url::parse(base).map_err(|e| format!("host {base:?} is not a URL: {e}"))?;
        if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none() {
            return Err(format!(
                "host {base} must be an http:// or https:// base URL"
            ));
        }
        Ok(Self {
            base,
            account_host: format!("{}.snowflakecomputing.com", account.to_lowercase()),
            role: role
                .map(str::to_uppercase)
                .unwrap_or_else(|| DEFAULT_ROLE.to_owned()),
            patch,
        })
    }

    /// The URL `url` is sent to: rewritten when it points at the account's
    /// Snowflake host, unchanged otherwise (e.g. result chunks on S3).
    pub(crate) fn rewrite(&self, url: &Url) -> Url {
        if !url
            .host_str()
            .is_some_and(|h| h.eq_ignore_ascii_case(&self.account_host))
        {
            return url.clone();
        }
        let mut out = self.base.clone();
        let prefix = self.base.path().trim_end_matches('/');
        out.set_path(&format!("{prefix}{}", url.path()));
        out.set_query(url.query());
        out.set_fragment(None);
        out
    }
}

/// Sets `obj[key] = value` unless the key is present and not null.
fn fill(obj: &mut Map<String, Value>, key: &str, value: Value) -> bool {
    match obj.get(key) {
        Some(v) if !v.is_null() => false,
        _ => {
            obj.insert(key.to_owned(), value);
            true
        }
    }
}

/// Completes a login reply. Returns whether anything changed.
pub(crate) fn patch_login(reply: &mut Value, role: &str) -> bool {
    if reply.get("success").and_then(Value::as_bool) != Some(true) {
        return false;
    }
    let Some(data) = reply.get_mut("data").and_then(Value::as_object_mut) else {
        return false;
    };
    let token = data
        .get("token")
        .and_then(Value::as_str)
        .unwrap_or("emulator")
        .to_owned();
    let mut changed = fill(data, "masterToken", json!(format!("master-{token}")));
    changed |= fill(data, "sessionId", json!(session_id(&token)));
    changed |= fill(
        data,
        "validityInSeconds",
        json!(EMULATOR_TOKEN_VALIDITY_SECS),
    );
    changed |= fill(
        data,
        "masterValidityInSeconds",
        json!(EMULATOR_TOKEN_VALIDITY_SECS),
    );
    changed |= fill(data, "serverVersion", json!("emulator"));
    changed |= fill(data, "sessionInfo", json!({}));
    if let Some(info) = data.get_mut("sessionInfo").and_then(Value::as_object_mut) {
        changed |= fill(info, "roleName", json!(role));
    }
    changed
}

/// A stable positive number derived from the session token.
fn session_id(token: &str) -> i64 {
    let h = token.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    i64::try_from(h >> 1).unwrap_or(i64::MAX)
}

/// Completes a query reply (success or failure). Returns whether anything
/// changed.
pub(crate) fn patch_query(reply: &mut Value, role: &str) -> bool {
    let success = reply.get("success").and_then(Value::as_bool);
    let code = reply.get("code").and_then(Value::as_str).map(str::to_owned);
    let Some(data) = reply.get_mut("data").and_then(Value::as_object_mut) else {
        return false;
    };
    match success {
        Some(true) => {
            let rows_in_reply = data
                .get("rowset")
                .and_then(Value::as_array)
                .map(|r| json!(r.len()));
            let returned = rows_in_reply
                .or_else(|| data.get("total").cloned())
                .unwrap_or(json!(0));
            let mut changed = fill(data, "returned", returned);
            changed |= fill(data, "total", json!(0));
            changed |= fill(data, "version", json!(1));
            changed |= fill(data, "finalRoleName", json!(role));
            changed |= fill(data, "parameters", json!([]));
            changed |= fill(data, "rowtype", json!([]));
            changed |= fill(data, "statementTypeId", json!(0));
            changed |= fill(data, "queryId", json!(""));
            changed
        }
        Some(false) => {
            let mut changed = fill(data, "age", json!(0));
            changed |= fill(data, "internalError", json!(false));
            changed |= fill(data, "queryId", json!(""));
            changed |= fill(data, "sqlState", json!(""));
            changed |= fill(data, "errorCode", json!(code.unwrap_or_default()));
            changed
        }
        None => false,
    }
}

#[async_trait::async_trait]
impl Middleware for HostOverride {
    async fn handle(
        &self,
        mut req: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        let endpoint = Endpoint::of_path(req.url().path());
        *req.url_mut() = self.rewrite(req.url());
        let resp = next.run(req, extensions).await?;
        if !self.patch || endpoint == Endpoint::Other {
            return Ok(resp);
        }
        let (resp, body) = read_reply(resp).await?;
        let Ok(mut reply) = serde_json::from_slice::<Value>(&body) else {
            return Ok(resp);
        };
        let changed = match endpoint {
            Endpoint::Login => patch_login(&mut reply, &self.role),
            _ => patch_query(&mut reply, &self.role),
        };
        if !changed {
            return Ok(resp);
        }
        match serde_json::to_vec(&reply) {
            Ok(body) => Ok(rebuild(&resp, body.into())),
            Err(_) => Ok(resp),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewriter() -> HostOverride {
        HostOverride::new(
            "xy12345.us-east-1",
            "http://127.0.0.1:8080",
            Some("loader"),
            true,
        )
        .unwrap()
    }

    #[test]
    fn rewrites_only_the_account_host() {
        let r = rewriter();
        let url = Url::parse(
            "https://XY12345.US-EAST-1.snowflakecomputing.com/queries/v1/query-request?requestId=1&request_guid=2",
        )
        .unwrap();
        assert_eq!(
            r.rewrite(&url).as_str(),
            "http://127.0.0.1:8080/queries/v1/query-request?requestId=1&request_guid=2"
        );
        let s3 = Url::parse("https://bucket.s3.amazonaws.com/chunk?x=1").unwrap();
        assert_eq!(r.rewrite(&s3), s3);
        let other = Url::parse("https://other.snowflakecomputing.com/session").unwrap();
        assert_eq!(r.rewrite(&other), other);
    }

    #[test]
    fn rewrite_keeps_a_base_path() {
        let r = HostOverride::new("acct", "http://127.0.0.1:9/emu/", None, true).unwrap();
        let url =
            Url::parse("https://ACCT.snowflakecomputing.com/session/v1/login-request?a=b").unwrap();
        assert_eq!(
            r.rewrite(&url).as_str(),
            "http://127.0.0.1:9/emu/session/v1/login-request?a=b"
        );
        assert!(HostOverride::new("acct", "not a url", None, true).is_err());
        assert!(HostOverride::new("acct", "file:///tmp", None, false).is_err());
    }

    #[test]
    fn login_reply_is_completed() {
        let mut v = json!({"data": {"token": "tok", "serverVersion": "9.1",
            "parameters": [], "sessionInfo": {"databaseName": null, "schemaName": null}},
            "success": true});
        assert!(patch_login(&mut v, "LOADER"));
        let d = &v["data"];
        assert_eq!(d["masterToken"], "master-tok");
        assert!(d["sessionId"].as_i64().unwrap() >= 0);
        assert_eq!(d["validityInSeconds"], EMULATOR_TOKEN_VALIDITY_SECS);
        assert_eq!(d["masterValidityInSeconds"], EMULATOR_TOKEN_VALIDITY_SECS);
        assert_eq!(d["sessionInfo"]["roleName"], "LOADER");
        assert_eq!(d["serverVersion"], "9.1", "present fields are kept");
        assert!(!patch_login(&mut v, "LOADER"), "second patch is a no-op");
    }

    #[test]
    fn failed_login_is_left_alone() {
        let mut v = json!({"data": {"authnMethod": "PASSWORD"}, "code": "390100",
            "message": "Incorrect username or password was specified.", "success": false});
        let before = v.clone();
        assert!(!patch_login(&mut v, "PUBLIC"));
        assert_eq!(v, before);
    }

    #[test]
    fn query_success_reply_is_completed() {
        let mut v = json!({"data": {"parameters": [{"name": "TIMEZONE", "value": "Etc/UTC"}],
            "rowtype": [], "total": 3, "queryId": "q", "statementTypeId": 4096,
            "queryResultFormat": "arrow", "rowsetBase64": ""}, "success": true});
        assert!(patch_query(&mut v, "SYSADMIN"));
        assert_eq!(v["data"]["returned"], 3);
        assert_eq!(v["data"]["version"], 1);
        assert_eq!(v["data"]["finalRoleName"], "SYSADMIN");
        assert_eq!(v["data"]["queryId"], "q");

        let mut dml = json!({"data": {"parameters": [], "rowtype": [], "total": 1,
            "queryId": "q2", "statementTypeId": 12544, "rowset": [["5"]]}, "success": true});
        assert!(patch_query(&mut dml, "R"));
        assert_eq!(dml["data"]["returned"], 1);
    }

    #[test]
    fn query_error_reply_is_completed() {
        let mut v = json!({"data": {"errorCode": "002003", "sqlState": "42S02"},
            "code": "002003", "message": "Table NOWHERE does not exist!", "success": false});
        assert!(patch_query(&mut v, "R"));
        let d = &v["data"];
        assert_eq!(d["age"], 0);
        assert_eq!(d["internalError"], false);
        assert_eq!(d["queryId"], "");
        assert_eq!(d["sqlState"], "42S02");
        assert_eq!(v["message"], "Table NOWHERE does not exist!");
    }

    #[test]
    fn replies_without_data_object_are_ignored() {
        let mut v = json!({"data": null, "code": "390104", "success": false});
        assert!(!patch_query(&mut v, "R"));
        let mut v = json!([1, 2]);
        assert!(!patch_query(&mut v, "R"));
        assert!(!patch_login(&mut v, "R"));
    }
}
