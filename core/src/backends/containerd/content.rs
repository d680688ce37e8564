//! containerd's content store, through its API: blobs read by offset (so the image
//! engine works without access to containerd's directories), and blobs written.

use std::io;
use std::sync::Arc;

use containerd_client::services::v1::{InfoRequest, ReadContentRequest};
use tokio_stream::StreamExt;

use crate::backends::containerd::client::Client;
use crate::blob::BlobSource;
use crate::digest::{verify_bytes, Digest};
use crate::error::{Error, Result};

/// The largest document (index, manifest, config) read whole.
const MAX_DOCUMENT: u64 = 64 << 20;

/// A blob of the content store, read by offset through the API.
pub struct ContentBlob {
    client: Client,
    digest: Digest,
    size: u64,
}

impl ContentBlob {
    /// The blob `digest`, whose size is asked of containerd.
    pub async fn open(client: &Client, digest: &Digest) -> Result<Arc<ContentBlob>> {
        let c = client;
        let info = c
            .content()
            .info(c.req(InfoRequest { digest: digest.to_string() }))
            .await
            .map_err(|s| c.error(format!("content {digest}"), s))?;
        let size = info.into_inner().info.map_or(0, |i| i.size.max(0) as u64);
        Ok(Arc::new(ContentBlob { client: client.clone(), digest: digest.clone(), size }))
    }
}

async fn read_range(client: Client, digest: Digest, offset: u64, size: u64) -> Result<Vec<u8>> {
    let mut stream = client
        .content()
        .read(client.req(ReadContentRequest { digest: digest.to_string(), offset: offset as i64, size: size as i64 }))
        .await
        .map_err(|s| client.error(format!("read content {digest}"), s))?
        .into_inner();
    let mut out = Vec::with_capacity(size as usize);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|s| client.error(format!("read content {digest}"), s))?;
        out.extend_from_slice(&chunk.data);
    }
    Ok(out)
}

impl BlobSource for ContentBlob {
    fn len(&self) -> u64 {
        self.size
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        if offset >= self.size || buf.is_empty() {
            return Ok(0);
        }
        let want = (buf.len() as u64).min(self.size - offset);
        let data = crate::io::block(read_range(self.client.clone(), self.digest.clone(), offset, want), None)?;
        let n = data.len().min(buf.len());
        buf[..n].copy_from_slice(&data[..n]);
        Ok(n)
    }
}

/// Reads a small blob whole and checks its digest.
pub async fn read_blob(client: &Client, digest: &Digest, what: &str) -> Result<Vec<u8>> {
    let blob = ContentBlob::open(client, digest).await.map_err(|e| e.context(what))?;
    if blob.size > MAX_DOCUMENT {
        return Err(Error::corrupt(format!("{what}: {digest} is {} bytes, too large for a document", blob.size)));
    }
    let data = read_range(client.clone(), digest.clone(), 0, blob.size).await?;
    verify_bytes(digest, &data, what)?;
    Ok(data)
}
