//! Native side of the wasm-vs-native comparison in BENCHMARKS.md
//! ("WebAssembly"): the same records through the same code path the wasm
//! exports use ([`torpeer_wasm::checks`]), and the single-threaded portable
//! solver. `wasm/npm/bench/bench.mjs` measures the wasm build the same way.
//!
//! ```text
//! cargo run --release -p torpeer-wasm --example native_bench -- RECORDS.json [SECONDS]
//! ```
//! RECORDS.json is a JSON array of proto3 JSON records (as `torpeer record
//! sign` prints them), all valid at their own `issuedAt` with difficulty >= 8.

use std::time::{Duration, Instant};

use torpeer_core::network::NetworkParams;
use torpeer_core::onion::OnionAddress;
use torpeer_core::pow::PowSearch;
use torpeer_wasm::checks;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: native_bench RECORDS.json [SECONDS]")?;
    let seconds: f64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(2.0);
    let budget = Duration::from_secs_f64(seconds);
    let records: Vec<serde_json::Value> = serde_json::from_slice(&std::fs::read(&path)?)?;
    let texts: Vec<Vec<u8>> = records
        .iter()
        .map(serde_json::to_vec)
        .collect::<Result<_, _>>()?;
    let now: u64 = records
        .first()
        .and_then(|r| r["issuedAt"].as_str())
        .ok_or("records need issuedAt")?
        .parse()?;
    let params = NetworkParams::default().with_min_difficulty(8);

    // Decode (proto3 JSON) + full verify, as verifyRecord(jsonText) does.
    let start = Instant::now();
    let mut done = 0u64;
    while start.elapsed() < budget {
        for text in &texts {
            let verdict = checks::verify_record_bytes(text, &params, now);
            if !verdict.ok {
                return Err(
                    format!("record refused: {}: {}", verdict.code, verdict.message).into(),
                );
            }
            done += 1;
        }
    }
    let rate = done as f64 / start.elapsed().as_secs_f64();
    println!("native verifyRecord(json): {rate:.0} records/s ({done} in {seconds} s)");

    // Portable single-threaded solver rate on the first record's key.
    let onion = OnionAddress::parse(records[0]["onion"].as_str().ok_or("records need onion")?)?;
    // Difficulty 64 is never met in practice: every try is counted work.
    let mut search = PowSearch::new(&params.name.id(), &onion, 64, 0, 1)?;
    let start = Instant::now();
    while start.elapsed() < budget {
        search.run(1 << 16);
    }
    let rate = search.tries() as f64 / start.elapsed().as_secs_f64();
    println!("native PowSearch (1 thread): {:.2} Mhash/s", rate / 1e6);
    Ok(())
}
