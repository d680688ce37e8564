//! The berth side of bench/docker (jobs run and exec), through berth-core in one warm
//! process, driven line by line so the script can interleave it with the docker CLI.
//! Usage: docker_bench ENDPOINT IMAGE EXEC_CONTAINER
//! Reads commands on stdin, one a line, and answers each with one line on stdout:
//!   run   create + start + wait + delete of IMAGE `true`, network none
//!         -> "run TOTAL_MS create MS start MS wait MS delete MS"
//!   exec  exec_output of `true` in the running EXEC_CONTAINER -> "exec TOTAL_MS"
//!   list LABEL  list the containers labelled LABEL (key=value), then open + inspect
//!         each (what bench/docker/pybench.py does through the C ABI)
//!         -> "list TOTAL_MS count N list MS open MS inspect MS" (open and inspect: sums)
//! The first command of each kind is worth a warm-up; the script does one untimed.

use std::io::{BufRead, Write};
use std::time::Instant;

use berth_core::container::{CreateOptions, ExecOptions, NetworkMode};

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, endpoint, image, exec_container] = args.as_slice() else {
        return Err(
            "usage: docker_bench ENDPOINT IMAGE EXEC_CONTAINER (commands on stdin: run, exec, list LABEL)".into()
        );
    };
    let tokio = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    tokio.block_on(async {
        let rt = berth_core::connect(Some(endpoint), Default::default()).await?;
        let exec_target =
            berth_core::need(rt.containers(), rt.kind(), "opening containers")?.open(exec_container).await?;
        let pid = std::process::id();
        let mut out = std::io::stdout().lock();
        for (n, line) in std::io::stdin().lock().lines().enumerate() {
            let line = line?;
            match line.trim() {
                "run" => {
                    let t = Instant::now();
                    let c = berth_core::need(rt.containers(), rt.kind(), "creating containers")?
                        .create(CreateOptions {
                            image: image.clone(),
                            name: Some(format!("berth-bench-run-{pid}-{n}")),
                            args: vec!["true".into()],
                            network: NetworkMode::None,
                            ..Default::default()
                        })
                        .await?;
                    let t1 = t.elapsed();
                    c.start().await?;
                    let t2 = t.elapsed();
                    let exit = c.wait().await?;
                    let t3 = t.elapsed();
                    c.delete(false).await?;
                    let t4 = t.elapsed();
                    if exit.exit_code != 0 {
                        return Err(format!("`true` exited with {}", exit.exit_code).into());
                    }
                    writeln!(
                        out,
                        "run {:.2} create {:.2} start {:.2} wait {:.2} delete {:.2}",
                        ms(t4),
                        ms(t1),
                        ms(t2 - t1),
                        ms(t3 - t2),
                        ms(t4 - t3)
                    )?;
                }
                "exec" => {
                    let t = Instant::now();
                    let o = exec_target
                        .exec_output(ExecOptions { args: vec!["true".into()], ..Default::default() }, None, None)
                        .await?;
                    let d = t.elapsed();
                    if o.exit_code != 0 {
                        return Err(format!("exec `true` exited with {}", o.exit_code).into());
                    }
                    writeln!(out, "exec {:.2}", ms(d))?;
                }
                cmd if cmd.starts_with("list ") => {
                    let filters = vec![format!("label={}", cmd["list ".len()..].trim())];
                    let t = Instant::now();
                    let listed =
                        berth_core::need(rt.containers(), rt.kind(), "listing containers")?.list(&filters).await?;
                    let t_list = t.elapsed();
                    let (mut open, mut inspect) = (std::time::Duration::ZERO, std::time::Duration::ZERO);
                    for s in &listed {
                        let t1 = Instant::now();
                        let c = berth_core::need(rt.containers(), rt.kind(), "opening containers")?.open(&s.id).await?;
                        let t2 = Instant::now();
                        let info = c.inspect().await?;
                        // What the C ABI hands out: the inspect document as JSON text.
                        let json = serde_json::to_string(&info)?;
                        std::hint::black_box(json);
                        inspect += t2.elapsed();
                        open += t2 - t1;
                    }
                    writeln!(
                        out,
                        "list {:.2} count {} list {:.2} open {:.2} inspect {:.2}",
                        ms(t.elapsed()),
                        listed.len(),
                        ms(t_list),
                        ms(open),
                        ms(inspect)
                    )?;
                }
                "" => continue,
                other => return Err(format!("unknown command {other:?} (run, exec, list LABEL)").into()),
            }
            out.flush()?;
        }
        Ok::<(), Box<dyn std::error::Error>>(())
    })
}
