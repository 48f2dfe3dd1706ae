//! A raw etcd client beside Opsdeck ("someone else", or the test's own eyes):
//! connect, write keys with byte values in transactions, read a prefix back.

use std::collections::BTreeMap;

use etcd_client::{Client, GetOptions, Txn, TxnOp};

use crate::Service;

/// A plain client to the etcd `etcd` started.
pub async fn raw(etcd: &Service) -> Client {
    Client::connect([etcd.get("ETCD_ENDPOINT")], None).await.expect("a raw etcd client")
}

/// Writes `keys` (values as bytes), 100 to a transaction.
pub async fn seed(c: &mut Client, keys: &[(String, Vec<u8>)]) {
    for chunk in keys.chunks(100) {
        let ops: Vec<TxnOp> = chunk.iter().map(|(k, v)| TxnOp::put(k.as_str(), v.as_slice(), None)).collect();
        c.txn(Txn::new().and_then(ops)).await.expect("seed keys");
    }
}

/// Every key under `prefix`, relative, with its bytes.
pub async fn dump(c: &mut Client, prefix: &str) -> BTreeMap<String, Vec<u8>> {
    let resp = c.get(prefix, Some(GetOptions::new().with_prefix())).await.expect("read the prefix");
    resp.kvs().iter().map(|kv| (String::from_utf8(kv.key()[prefix.len()..].to_vec()).expect("UTF-8 key"), kv.value().to_vec())).collect()
}
