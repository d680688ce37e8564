//! The Rust side of bench/abi: reads /data/1mib.bin of the benchmark image through
//! berth-core directly, exactly as bench/abi/abi-bench.c does through the C ABI, and
//! prints the median time per read. Usage: read_bench ENDPOINT

use std::io::Read;
use std::time::Instant;

use berth_core::fs::FileSystem;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let endpoint = std::env::args().nth(1).ok_or("usage: read_bench ENDPOINT")?;
    let fs = tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
        let rt = berth_core::connect(Some(&endpoint), Default::default()).await?;
        rt.open_image("abi:bench").await?.filesystem()
    })?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut times = Vec::new();
    for _ in 0..201 {
        let t0 = Instant::now();
        let mut f = fs.open("/data/1mib.bin")?;
        let mut total = 0;
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            total += n;
        }
        drop(f);
        times.push(t0.elapsed().as_nanos() as f64);
        assert_eq!(total, 1 << 20);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    println!("read_1mib_ns {:.0}", times[times.len() / 2]);
    Ok(())
}
