//! Application messages between two TorPeer nodes on the loopback tcp
//! transport: messages per second and one-way latency (p50/p99), through
//! the embedding API exactly as an application uses it.
//!
//! ```sh
//! cargo run --release -p torpeer-node --example message_bench -- [--messages N] [--sizes 64,1024,65536] [--samples N]
//! ```
//!
//! A router and two participants run in this process (2 tokio worker
//! threads, like `torpeer run`), over real loopback sockets. Both
//! participants share one clock, so a send time stamped into each message
//! gives true one-way latency (send call to event at the receiver), not
//! half a round trip. Per size:
//! - **idle latency**: one message in flight at a time, `--samples` times;
//! - **throughput**: `--messages` sent as fast as `send` accepts them, with
//!   at most 512 in flight (the receiver's event channel holds 1,024 and
//!   drops what a slow reader leaves; `queue_full` answers are retried
//!   after a yield), timed from the first
//!   send to the last arrival; the latency of those messages is reported too
//!   (it includes queueing, so it shows the cost of a full pipe).
//!
//! Results depend on the machine and its load: compare runs on one machine.

use std::time::{Duration, Instant};

use torpeer_node::app::{
    Event, Events, OnionAddress, Role, SendError, Sender, TorPeer, TransportKind,
};

/// Messages in flight at most during the throughput run (below the
/// node's 1,024-event channel).
const WINDOW: usize = 512;

struct Options {
    messages: usize,
    samples: usize,
    sizes: Vec<usize>,
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        messages: 20_000,
        samples: 2_000,
        sizes: vec![64, 1024, 64 * 1024],
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        let number = |s: String| s.parse::<usize>().map_err(|e| format!("{s:?}: {e}"));
        match flag.as_str() {
            "--messages" => o.messages = number(value()?)?,
            "--samples" => o.samples = number(value()?)?,
            "--sizes" => {
                o.sizes = value()?
                    .split(',')
                    .map(|s| number(s.to_owned()))
                    .collect::<Result<_, _>>()?;
            }
            other => {
                return Err(format!(
                    "unknown flag {other:?}; flags: --messages N, --samples N, --sizes A,B,C"
                ));
            }
        }
    }
    if o.sizes.iter().any(|&s| s < 16) || o.messages == 0 || o.samples == 0 {
        return Err("sizes must be at least 16 bytes, counts at least 1".into());
    }
    Ok(o)
}

/// A payload of `size` bytes carrying its sequence number and send time.
fn payload(size: usize, seq: u64, epoch: Instant) -> Vec<u8> {
    let mut data = vec![0x5a; size];
    data[..8].copy_from_slice(&seq.to_le_bytes());
    let nanos = u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX);
    data[8..16].copy_from_slice(&nanos.to_le_bytes());
    data
}

/// The next message's (sequence, one-way latency).
async fn receive(events: &mut Events, epoch: Instant) -> Result<(u64, Duration), String> {
    loop {
        match tokio::time::timeout(Duration::from_secs(60), events.recv()).await {
            Err(_) => return Err("no message for 60 s".into()),
            Ok(None) => return Err("event stream ended".into()),
            Ok(Some(Event::Message { data, .. })) => {
                let field = |r: std::ops::Range<usize>| {
                    data.get(r)
                        .and_then(|b| <[u8; 8]>::try_from(b).ok())
                        .map(u64::from_le_bytes)
                        .ok_or("short message")
                };
                let seq = field(0..8)?;
                let sent = Duration::from_nanos(field(8..16)?);
                return Ok((seq, epoch.elapsed().saturating_sub(sent)));
            }
            Ok(Some(Event::Lagged { missed })) => {
                return Err(format!(
                    "the benchmark's own event stream lagged by {missed}"
                ));
            }
            Ok(Some(_)) => {}
        }
    }
}

/// Send, retrying `queue_full` after a yield; returns how many refusals.
async fn send(from: &Sender, to: OnionAddress, data: &[u8]) -> Result<u64, String> {
    let mut refused = 0;
    loop {
        match from.send(to, data.to_vec()).await {
            Ok(()) => return Ok(refused),
            Err(SendError::QueueFull) => {
                refused += 1;
                tokio::task::yield_now().await;
            }
            Err(e) => return Err(format!("send: {e}")),
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn micros(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

async fn bench_size(
    a: &TorPeer,
    b: &TorPeer,
    events: &mut Events,
    size: usize,
    o: &Options,
    epoch: Instant,
) -> Result<(), String> {
    // Idle latency: one message in flight.
    let mut idle = Vec::with_capacity(o.samples);
    for seq in 0..o.samples as u64 {
        send(&a.sender(), b.onion(), &payload(size, seq, epoch)).await?;
        let (got, latency) = receive(events, epoch).await?;
        if got != seq {
            return Err(format!("expected message {seq}, got {got}"));
        }
        idle.push(latency);
    }
    idle.sort();

    // Throughput: a sender task as fast as `send` allows; this task receives.
    let n = o.messages as u64;
    let start = Instant::now();
    // At most WINDOW messages sent and not yet received: the receiving
    // node's event channel holds 1,024 events and, like any broadcast,
    // drops (reports `Lagged`) what a slow reader has not taken, so an
    // unbounded sender would measure loss, not throughput.
    let window = std::sync::Arc::new(tokio::sync::Semaphore::new(WINDOW));
    let sender = {
        let (from, to, window) = (a.sender(), b.onion(), window.clone());
        tokio::spawn(async move {
            let mut refused = 0u64;
            for seq in 0..n {
                window.acquire().await.map_err(|e| e.to_string())?.forget();
                refused += send(&from, to, &payload(size, seq, epoch)).await?;
            }
            Ok::<_, String>(refused)
        })
    };
    let mut loaded = Vec::with_capacity(o.messages);
    for seq in 0..n {
        let (got, latency) = receive(events, epoch).await?;
        window.add_permits(1);
        if got != seq {
            return Err(format!(
                "expected message {seq}, got {got} (lost or reordered)"
            ));
        }
        loaded.push(latency);
    }
    let elapsed = start.elapsed();
    let refused = sender.await.map_err(|e| e.to_string())??;
    loaded.sort();
    let rate = n as f64 / elapsed.as_secs_f64();
    println!(
        "{size:>7} B | {:>9.0} msg/s {:>8.1} MiB/s | idle p50 {:>8} p99 {:>8} | loaded p50 {:>9} p99 {:>9} | queue_full {refused}",
        rate,
        rate * size as f64 / (1024.0 * 1024.0),
        micros(percentile(&idle, 0.50)),
        micros(percentile(&idle, 0.99)),
        micros(percentile(&loaded, 0.50)),
        micros(percentile(&loaded, 0.99)),
    );
    Ok(())
}

async fn run(o: Options) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("torpeer-message-bench-{}", std::process::id()));
    let settings = |name: &str| {
        TorPeer::builder()
            .data_dir(dir.join(name))
            .transport(TransportKind::Tcp)
            .listen(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
            .network("message-bench")
            .difficulty(8)
    };
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let router = settings("router")
        .role(Role::Router)
        .start()
        .await
        .map_err(|e| err(&e))?;
    let a = settings("a")
        .bootstrap(router.contact())
        .start()
        .await
        .map_err(|e| err(&e))?;
    let b = settings("b")
        .bootstrap(router.contact())
        .start()
        .await
        .map_err(|e| err(&e))?;
    let mut events = b.events();
    let epoch = Instant::now();
    // Wait until A can reach B, then drain the warm-up message.
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        match a.send(b.onion(), payload(16, u64::MAX, epoch)).await {
            Ok(()) => break,
            Err(SendError::UnknownPeer | SendError::PeerOffline | SendError::QueueFull)
                if Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => return Err(format!("warm-up send: {e}")),
        }
    }
    receive(&mut events, epoch).await?;
    println!(
        "message_bench: {} messages per size for throughput, {} idle samples; loopback tcp, 2 worker threads",
        o.messages, o.samples
    );
    for &size in &o.sizes {
        bench_size(&a, &b, &mut events, size, &o, epoch).await?;
    }
    for n in [a, b, router] {
        n.shutdown().await.map_err(|e| err(&e))?;
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn main() -> std::process::ExitCode {
    let options = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start runtime: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    match rt.block_on(run(options)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
