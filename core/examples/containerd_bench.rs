//! The berth side of bench/containerd: run-to-completion of busybox `true`
//! (create + start + wait + delete) and exec latency, through berth-core.
//! Usage: containerd_bench ENDPOINT IMAGE RUNS   (prints "name median_ms" lines)

use std::time::Instant;

use berth_core::container::{CreateOptions, ExecOptions};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, endpoint, image, runs] = args.as_slice() else {
        return Err("usage: containerd_bench ENDPOINT IMAGE RUNS".into());
    };
    let runs: usize = runs.parse()?;
    let tokio = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    tokio.block_on(async {
        let rt = berth_core::connect(Some(endpoint), Default::default()).await?;
        let run = |name: String| {
            let rt = rt.clone();
            let image = image.clone();
            async move {
                let c = berth_core::need(rt.containers(), rt.kind(), "creating containers")?
                    .create(CreateOptions {
                        image,
                        name: Some(name),
                        args: vec!["/bin/true".into()],
                        ..Default::default()
                    })
                    .await?;
                c.start().await?;
                c.wait().await?;
                c.delete(false).await?;
                Ok::<(), berth_core::Error>(())
            }
        };
        run("bench-warmup".into()).await?;
        if std::env::var_os("BERTH_BENCH_PHASES").is_some() {
            for i in 0..5 {
                let t = Instant::now();
                let c = berth_core::need(rt.containers(), rt.kind(), "creating containers")?
                    .create(CreateOptions {
                        image: image.clone(),
                        name: Some(format!("phase-{i}")),
                        args: vec!["/bin/true".into()],
                        ..Default::default()
                    })
                    .await?;
                let t1 = t.elapsed();
                c.start().await?;
                let t2 = t.elapsed();
                c.wait().await?;
                let t3 = t.elapsed();
                c.delete(false).await?;
                let t4 = t.elapsed();
                eprintln!("create {:?} start {:?} wait {:?} delete {:?}", t1, t2 - t1, t3 - t2, t4 - t3);
            }
        }
        let mut times = Vec::new();
        for i in 0..runs {
            let t = Instant::now();
            run(format!("bench-run-{i}")).await?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        println!("run_true_ms {:.1}", median(times));

        let c = berth_core::need(rt.containers(), rt.kind(), "creating containers")?
            .create(CreateOptions {
                image: image.clone(),
                name: Some("bench-exec".into()),
                args: vec!["/bin/sleep".into(), "600".into()],
                ..Default::default()
            })
            .await?;
        c.start().await?;
        let exec = || c.exec_output(ExecOptions { args: vec!["/bin/true".into()], ..Default::default() }, None, None);
        exec().await?;
        let mut times = Vec::new();
        for _ in 0..runs {
            let t = Instant::now();
            exec().await?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        println!("exec_true_ms {:.1}", median(times));
        c.delete(true).await?;
        Ok::<(), Box<dyn std::error::Error>>(())
    })
}
