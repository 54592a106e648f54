//! The committed test vectors (`tests/vectors/*.json`): onion addresses,
//! proof-of-work and signed records.
//!
//! Each file is produced by a generator below from fixed seeds; the tests
//! check (1) that the committed file is exactly what the generator makes now,
//! (2) every vector against `torpeer-core`, and (3) every vector against the
//! independent implementations in `common::independent`. So a change to the
//! wire format fails here until the vectors are regenerated on purpose:
//!
//! ```text
//! TORPEER_REGEN_VECTORS=1 cargo test -p torpeer-tests --test vectors
//! ```

// Test code: a panic is a test failure, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fs;

use prost::Message;
use serde_json::{Value, json};
use torpeer_core::codec::decode_message;
use torpeer_core::hsdir;
use torpeer_core::identity::{Identity, SignatureContext};
use torpeer_core::network::{NetworkName, NetworkParams};
use torpeer_core::onion::OnionAddress;
use torpeer_core::proto;
use torpeer_core::record::{self, RecordBody, Role};
use torpeer_core::{pow, pow::PowError};

use common::independent as ind;

const REGEN_ENV: &str = "TORPEER_REGEN_VECTORS";

/// Compare a generated vector file with the committed one, or rewrite it
/// when [`REGEN_ENV`] is set.
fn check_committed(name: &str, generated: &Value) {
    let path = common::vectors_dir().join(name);
    let text = format!("{}\n", serde_json::to_string_pretty(generated).unwrap());
    if std::env::var(REGEN_ENV).is_ok_and(|v| v == "1") {
        fs::create_dir_all(common::vectors_dir()).unwrap();
        fs::write(&path, text).unwrap();
        return;
    }
    let committed = fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run with {REGEN_ENV}=1", path.display()));
    assert!(
        committed == text,
        "{} differs from what the generator makes; if the change is intended, \
         run with {REGEN_ENV}=1 and review the diff",
        path.display()
    );
}

fn load(name: &str) -> Value {
    let path = common::vectors_dir().join(name);
    serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap()
}

fn seed(n: u8) -> [u8; 32] {
    std::array::from_fn(|i| n.wrapping_mul(31).wrapping_add(i as u8))
}

fn hex32(v: &Value) -> [u8; 32] {
    hex::decode(v.as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap()
}

fn str_of(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

// ------------------------------------------------------------------ onion

fn generate_onion() -> Value {
    let mut valid = Vec::new();
    for n in [0u8, 1, 2, 3] {
        let s = seed(n);
        let id = Identity::from_seed(&s).unwrap();
        valid.push(json!({
            "seed": hex::encode(s),
            "public_key": hex::encode(id.public_key()),
            "onion": id.address().to_string(),
        }));
    }
    // A long-lived public address, with no seed.
    let known =
        OnionAddress::parse("duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion")
            .unwrap();
    valid.push(json!({
        "public_key": hex::encode(known.public_key()),
        "onion": known.to_string(),
    }));

    let id = Identity::from_seed(&seed(1)).unwrap();
    let key = *id.public_key();
    let good = id.address().to_string();
    let base = good.strip_suffix(".onion").unwrap();
    let mut bad_sum = ind::onion_checksum(&key, 3);
    bad_sum[1] ^= 1;
    // The all-zero key decodes to a point of order 4: weak. y = 2 is not on
    // the curve at all.
    let weak = [0u8; 32];
    let mut off_curve = [0u8; 32];
    off_curve[0] = 2;
    let invalid: Vec<Value> = [
        (
            ind::onion_from_parts(&key, bad_sum, 3),
            "onion_checksum",
            "checksum with one bit flipped",
        ),
        (
            ind::onion_from_parts(&key, ind::onion_checksum(&key, 4), 4),
            "onion_version",
            "version 4 with its own checksum",
        ),
        (
            ind::onion_from_parts(&key, ind::onion_checksum(&key, 3), 2),
            "onion_version",
            "version 2",
        ),
        (
            format!("{}.onion", base.to_ascii_uppercase()),
            "onion_not_lowercase",
            "upper case",
        ),
        (
            good.to_ascii_uppercase(),
            "onion_length",
            "upper case, suffix too: \".ONION\" is not the suffix, so 62 characters",
        ),
        (
            format!("{}{}", base[..1].to_ascii_uppercase(), &good[1..]),
            "onion_not_lowercase",
            "one upper-case letter",
        ),
        (good[1..].to_owned(), "onion_length", "one character short"),
        (format!("a{good}"), "onion_length", "one character long"),
        (
            "expyuzz4wqqyqhjn.onion".to_owned(),
            "onion_length",
            "a v2 address",
        ),
        (String::new(), "onion_length", "empty"),
        (format!("{good}\n"), "onion_length", "trailing newline"),
        (format!("{base}.ONION"), "onion_length", "upper-case suffix"),
        (
            format!("1{}", &good[1..]),
            "onion_invalid_character",
            "digit 1 is not base32",
        ),
        (
            format!("{}8.onion", &base[..55]),
            "onion_invalid_character",
            "digit 8 is not base32",
        ),
        (
            format!("{}=.onion", &base[..55]),
            "onion_invalid_character",
            "padding",
        ),
        (
            ind::onion_of(&weak),
            "onion_invalid_key",
            "small-order (weak) key",
        ),
        (
            ind::onion_of(&off_curve),
            "onion_invalid_key",
            "not a curve point",
        ),
    ]
    .into_iter()
    .map(|(input, error, note)| json!({"input": input, "error": error, "note": note}))
    .collect();
    json!({
        "description": "v3 onion addresses: base32(pubkey || SHA3-256(\".onion checksum\" || pubkey || 0x03)[..2] || 0x03) + \".onion\". Valid ones with their ed25519 public keys (and seeds where known); invalid ones with the error code OnionAddress::parse returns.",
        "valid": valid,
        "invalid": invalid,
    })
}

#[test]
fn onion_vectors_are_committed() {
    check_committed("onion.json", &generate_onion());
}

#[test]
fn onion_vectors_hold() {
    let v = load("onion.json");
    let valid = v["valid"].as_array().unwrap();
    assert!(valid.len() >= 5);
    for case in valid {
        let onion = str_of(&case["onion"]);
        let key = hex32(&case["public_key"]);
        let parsed = OnionAddress::parse(onion).unwrap();
        assert_eq!(parsed.public_key(), &key);
        assert_eq!(parsed.to_string(), onion);
        assert_eq!(
            OnionAddress::from_public_key(key).unwrap().to_string(),
            onion
        );
        assert_eq!(ind::onion_of(&key), onion, "independent encoder disagrees");
        assert_eq!(ind::key_of_onion(onion), Some(key));
        if let Some(s) = case.get("seed") {
            let s = hex32(s);
            assert_eq!(ind::public_key_of_seed(&s), key);
            assert_eq!(Identity::from_seed(&s).unwrap().public_key(), &key);
        }
    }
    let invalid = v["invalid"].as_array().unwrap();
    assert!(invalid.len() >= 10);
    for case in invalid {
        let input = str_of(&case["input"]);
        let err = OnionAddress::parse(input).expect_err(input);
        assert_eq!(
            err.code(),
            str_of(&case["error"]),
            "{input:?}: {}",
            case["note"]
        );
    }
}

// ------------------------------------------------------------------ PoW

fn generate_pow() -> Value {
    let mut cases = Vec::new();
    for (n, network, difficulty) in [
        (0u8, "torpeer", 8u8),
        (1, "torpeer", 12),
        (2, "testnet-1", 16),
        (3, "torpeer", 0),
    ] {
        let id = Identity::from_seed(&seed(n)).unwrap();
        let net = NetworkName::new(network).unwrap();
        let (nonce, _) = pow::solve(&net.id(), &id.address(), difficulty).unwrap();
        let mut push = |nonce: u64, difficulty: u8, verdict: &str| {
            let hash = pow::pow_hash(&net.id(), &id.address(), nonce);
            cases.push(json!({
                "network": network,
                "network_id": hex::encode(net.id().0),
                "public_key": hex::encode(id.public_key()),
                "onion": id.address().to_string(),
                "nonce": nonce.to_string(),
                "difficulty": difficulty,
                "hash": hex::encode(hash),
                "leading_zero_bits": pow::leading_zero_bits(&hash),
                "verdict": verdict,
            }));
        };
        push(nonce, difficulty, "ok");
        if difficulty > 0 {
            // The solver returns the first solution: the nonce before fails.
            push(nonce - 1, difficulty, "pow_insufficient");
            // One bit more than the hash has is too much.
            let achieved = pow::achieved_difficulty(&net.id(), &id.address(), nonce);
            if achieved < 64 {
                push(
                    nonce,
                    u8::try_from(achieved + 1).unwrap(),
                    "pow_insufficient",
                );
            }
        }
        if n == 0 {
            push(u64::MAX, 65, "pow_difficulty_too_high");
        }
    }
    json!({
        "description": "Proof-of-work: hash = SHA3-256(\"torpeer pow v1\\0\\0\" || network_id || public_key || nonce as u64 LE); network_id = SHA3-256(\"torpeer network id v1\\0\" || network name). Valid when the hash has at least `difficulty` leading zero bits (big-endian); difficulty <= 64. Nonces are decimal strings (u64).",
        "cases": cases,
    })
}

#[test]
fn pow_vectors_are_committed() {
    check_committed("pow.json", &generate_pow());
}

#[test]
fn pow_vectors_hold() {
    let v = load("pow.json");
    let cases = v["cases"].as_array().unwrap();
    assert!(cases.len() >= 8);
    let mut verdicts = std::collections::BTreeSet::new();
    for case in cases {
        let network = NetworkName::new(str_of(&case["network"])).unwrap();
        let key = hex32(&case["public_key"]);
        let address = OnionAddress::parse(str_of(&case["onion"])).unwrap();
        assert_eq!(address.public_key(), &key);
        let nonce: u64 = str_of(&case["nonce"]).parse().unwrap();
        let difficulty = u8::try_from(case["difficulty"].as_u64().unwrap()).unwrap();
        let hash = hex32(&case["hash"]);
        let verdict = str_of(&case["verdict"]);
        verdicts.insert(verdict.to_owned());

        assert_eq!(hex32(&case["network_id"]), network.id().0);
        assert_eq!(ind::network_id(network.as_str()), network.id().0);
        assert_eq!(pow::pow_hash(&network.id(), &address, nonce), hash);
        assert_eq!(
            ind::pow_hash(network.as_str(), &key, nonce),
            hash,
            "sha3 crate disagrees"
        );
        let zeros = case["leading_zero_bits"].as_u64().unwrap();
        assert_eq!(u64::from(pow::leading_zero_bits(&hash)), zeros);
        assert_eq!(u64::from(ind::leading_zeros(&hash)), zeros);

        let got = pow::verify(&network.id(), &address, nonce, difficulty);
        assert_eq!(
            got.as_ref().map_err(PowError::code).err().unwrap_or("ok"),
            verdict,
            "{case}"
        );
        // The fast solver kernel agrees with the reference hash: starting at
        // this nonce, it accepts it exactly when the verdict is ok.
        if difficulty <= pow::MAX_DIFFICULTY {
            let mut search =
                pow::PowSearch::new(&network.id(), &address, difficulty, nonce, 1).unwrap();
            assert_eq!(search.run(1) == Some(nonce), verdict == "ok", "{case}");
        }
    }
    for v in ["ok", "pow_insufficient", "pow_difficulty_too_high"] {
        assert!(verdicts.contains(v), "no {v} vector");
    }
}

// ------------------------------------------------------------------ records

const NOW: u64 = 1_764_000_000;

struct RecordCase {
    name: &'static str,
    seed: u8,
    network: &'static str,
    role: Role,
    ports: Vec<u16>,
    issued_at: u64,
    sequence: u64,
    difficulty: u8,
    tcp_endpoint: Option<&'static str>,
}

fn record_cases() -> Vec<RecordCase> {
    vec![
        RecordCase {
            name: "participant, default network",
            seed: 10,
            network: "torpeer",
            role: Role::Participant,
            ports: vec![80],
            issued_at: NOW - 60,
            sequence: 1,
            difficulty: 8,
            tcp_endpoint: None,
        },
        RecordCase {
            name: "router, several ports, loopback endpoint",
            seed: 11,
            network: "torpeer",
            role: Role::Router,
            ports: vec![80, 443, 9050, 65535],
            issued_at: NOW,
            sequence: 42,
            difficulty: 10,
            tcp_endpoint: Some("127.0.0.1:7000"),
        },
        RecordCase {
            name: "other network, no ports, IPv6 endpoint, big sequence",
            seed: 12,
            network: "testnet-1",
            role: Role::Participant,
            ports: vec![],
            issued_at: NOW - 3600,
            sequence: u64::MAX,
            difficulty: 4,
            tcp_endpoint: Some("[::1]:65535"),
        },
    ]
}

fn params_json(p: &NetworkParams) -> Value {
    json!({
        "network": p.name.as_str(),
        "min_difficulty": p.min_difficulty,
        "record_ttl_secs": p.record_ttl_secs,
        "max_future_skew_secs": p.max_future_skew_secs,
    })
}

fn generate_records() -> Value {
    let mut out = Vec::new();
    for case in record_cases() {
        let s = seed(case.seed);
        let id = Identity::from_seed(&s).unwrap();
        let network = NetworkName::new(case.network).unwrap();
        let (nonce, _) = pow::solve(&network.id(), &id.address(), case.difficulty).unwrap();
        let body = RecordBody {
            address: id.address(),
            network: network.clone(),
            role: case.role,
            ports: case.ports.clone(),
            issued_at: case.issued_at,
            sequence: case.sequence,
            pow_difficulty: case.difficulty,
            pow_nonce: nonce,
            tcp_endpoint: case.tcp_endpoint.map(|e| e.parse().unwrap()),
        };
        let signed = body.clone().sign(&id).unwrap();
        let params = NetworkParams::new(network.clone()).with_min_difficulty(case.difficulty);
        let proto = signed.to_proto();

        let mut checks = Vec::new();
        let mut check =
            |note: &str, record: &proto::PeerRecord, params: &NetworkParams, now: u64| {
                let verdict = match record::verify(record, params, now) {
                    Ok(_) => "ok",
                    Err(e) => e.code(),
                };
                checks.push(json!({
                    "note": note,
                    "params": params_json(params),
                    "now": now,
                    "record_binary": hex::encode(record.encode_to_vec()),
                    "verdict": verdict,
                }));
            };
        check("valid now", &proto, &params, NOW);
        let expired_at = case.issued_at + params.record_ttl_secs;
        check("last second of validity", &proto, &params, expired_at);
        check("expired", &proto, &params, expired_at + 1);
        check(
            "from the future",
            &proto,
            &params,
            case.issued_at - params.max_future_skew_secs - 1,
        );
        let other =
            NetworkParams::new(NetworkName::new("elsewhere").unwrap()).with_min_difficulty(0);
        check("wrong network", &proto, &other, NOW);
        let stricter = params.clone().with_min_difficulty(case.difficulty + 1);
        check("network asks for more work", &proto, &stricter, NOW);
        let mut bad_sig = proto.clone();
        bad_sig.signature[0] ^= 0x01;
        check("signature with one bit flipped", &bad_sig, &params, NOW);
        let mut bumped = proto.clone();
        bumped.sequence = bumped.sequence.wrapping_add(1);
        check("sequence changed after signing", &bumped, &params, NOW);
        let mut weak = proto.clone();
        weak.pow_nonce = weak.pow_nonce.wrapping_add(1);
        check("nonce changed after signing", &weak, &params, NOW);
        let mut bad_onion = proto.clone();
        bad_onion.onion = bad_onion.onion.to_ascii_uppercase();
        check("upper-case onion", &bad_onion, &params, NOW);

        out.push(json!({
            "name": case.name,
            "seed": hex::encode(s),
            "expanded_secret_key": hex::encode(id.expanded_secret()),
            "public_key": hex::encode(id.public_key()),
            "onion": id.address().to_string(),
            "signature_prefix": hex::encode(SignatureContext::Record.prefix()),
            "canonical_bytes": hex::encode(body.canonical_bytes()),
            "signature": hex::encode(signed.signature),
            "record_json": serde_json::to_value(&proto).unwrap(),
            "record_binary": hex::encode(proto.encode_to_vec()),
            "checks": checks,
        }));
    }
    json!({
        "description": "Signed peer records. seed -> expanded_secret_key (SHA-512(seed), clamped; C-tor's hs_ed25519_secret_key body) -> public_key -> onion. signature = Ed25519(signature_prefix || canonical_bytes) (PROTOCOL.md, Signed peer record). record_json is the canonical proto3 JSON of the PeerRecord, record_binary its protobuf encoding. Each check verifies a (possibly altered) record_binary under params at `now` and gives the RecordError code, or ok.",
        "records": out,
    })
}

#[test]
fn record_vectors_are_committed() {
    check_committed("records.json", &generate_records());
}

#[test]
fn record_vectors_hold() {
    let v = load("records.json");
    let records = v["records"].as_array().unwrap();
    assert!(records.len() >= 3);
    let mut verdicts = std::collections::BTreeSet::new();
    for r in records {
        let s = hex32(&r["seed"]);
        let expanded: [u8; 64] = hex::decode(str_of(&r["expanded_secret_key"]))
            .unwrap()
            .try_into()
            .unwrap();
        let key = hex32(&r["public_key"]);
        let from_seed = Identity::from_seed(&s).unwrap();
        let from_expanded = Identity::from_expanded(&expanded).unwrap();
        assert_eq!(from_seed.expanded_secret(), &expanded);
        assert_eq!(from_expanded.public_key(), &key);
        assert_eq!(ind::public_key_of_seed(&s), key);
        assert_eq!(from_expanded.address().to_string(), str_of(&r["onion"]));

        // The JSON and the binary encodings are the same record.
        let json_text = serde_json::to_vec(&r["record_json"]).unwrap();
        let (from_json, _) = decode_message::<proto::PeerRecord>(&json_text, 1 << 16).unwrap();
        let binary = hex::decode(str_of(&r["record_binary"])).unwrap();
        let (from_binary, _) = decode_message::<proto::PeerRecord>(&binary, 1 << 16).unwrap();
        assert_eq!(from_json, from_binary);
        assert_eq!(
            from_binary.encode_to_vec(),
            binary,
            "binary encoding not canonical"
        );
        assert_eq!(
            serde_json::to_value(&from_binary).unwrap(),
            r["record_json"]
        );

        // Canonical bytes: core, the independent builder and the vector agree.
        let canonical = hex::decode(str_of(&r["canonical_bytes"])).unwrap();
        let signed = torpeer_core::SignedRecord::from_proto(&from_binary).unwrap();
        assert_eq!(signed.body.canonical_bytes(), canonical);
        assert_eq!(ind::canonical_bytes(&from_binary).unwrap(), canonical);

        // The signature is standard ed25519 by the seed over prefix ‖ bytes,
        // and core's expanded-key signer makes the same one.
        let prefix = hex::decode(str_of(&r["signature_prefix"])).unwrap();
        assert_eq!(prefix, SignatureContext::Record.prefix());
        let signature = hex::decode(str_of(&r["signature"])).unwrap();
        assert_eq!(
            ind::sign_with_seed(&s, &prefix, &canonical).to_vec(),
            signature
        );
        assert_eq!(
            from_expanded
                .sign(SignatureContext::Record, &canonical)
                .to_vec(),
            signature
        );
        assert_eq!(from_binary.signature, signature);

        for check in r["checks"].as_array().unwrap() {
            let p = &check["params"];
            let params = NetworkParams {
                name: NetworkName::new(str_of(&p["network"])).unwrap(),
                min_difficulty: u8::try_from(p["min_difficulty"].as_u64().unwrap()).unwrap(),
                record_ttl_secs: p["record_ttl_secs"].as_u64().unwrap(),
                max_future_skew_secs: p["max_future_skew_secs"].as_u64().unwrap(),
            };
            let now = check["now"].as_u64().unwrap();
            let bytes = hex::decode(str_of(&check["record_binary"])).unwrap();
            let record = proto::PeerRecord::decode(bytes.as_slice()).unwrap();
            let verdict = str_of(&check["verdict"]);
            verdicts.insert(verdict.to_owned());
            let got = match record::verify(&record, &params, now) {
                Ok(_) => "ok",
                Err(e) => e.code(),
            };
            assert_eq!(got, verdict, "{}: {}", r["name"], check["note"]);
            // JSON carries the same verdict.
            let json = serde_json::to_vec(&record).unwrap();
            let (again, _) = decode_message::<proto::PeerRecord>(&json, 1 << 16).unwrap();
            let got_json = record::verify(&again, &params, now)
                .map(|_| ())
                .map_err(|e| e.code());
            assert_eq!(got_json.err().unwrap_or("ok"), verdict);
        }
    }
    for v in [
        "ok",
        "expired",
        "from_future",
        "wrong_network",
        "bad_pow",
        "bad_signature",
        "malformed_address",
    ] {
        assert!(verdicts.contains(v), "no {v} vector");
    }
}

// ------------------------------------------------------------------ fuzz seeds

/// The seed corpora of the cargo-fuzz targets (`fuzz/seeds/<target>/`),
/// built from the vectors above so that each target starts from inputs that
/// get deep into its decoder. Input layouts are documented in each target.
fn generate_fuzz_seeds() -> Vec<(String, Vec<u8>)> {
    use torpeer_core::codec::{DEFAULT_MAX_FRAME_LEN, encode_frame};
    use torpeer_core::proto::frame::Kind;

    let mut seeds: Vec<(String, Vec<u8>)> = Vec::new();
    let records: Vec<proto::PeerRecord> = generate_records()["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let bin = hex::decode(str_of(&r["record_binary"])).unwrap();
            proto::PeerRecord::decode(bin.as_slice()).unwrap()
        })
        .collect();
    let entries: Vec<proto::PeerEntry> = records
        .iter()
        .map(|r| proto::PeerEntry {
            record: Some(r.clone()),
            status: 1,
            last_seen: NOW,
            learned_from: String::new(),
        })
        .collect();
    let list = proto::PeerList {
        network: "torpeer".into(),
        source: records[0].onion.clone(),
        generated_at: NOW,
        peers: entries.clone(),
    };

    for (i, r) in records.iter().enumerate() {
        seeds.push((format!("record_binary/record-{i}"), r.encode_to_vec()));
        seeds.push((
            format!("record_json/record-{i}.json"),
            serde_json::to_vec(r).unwrap(),
        ));
    }
    seeds.push((
        "record_json/peer-list.json".into(),
        serde_json::to_vec(&list).unwrap(),
    ));
    seeds.push(("record_json/peer-list.bin".into(), list.encode_to_vec()));

    // Batch verification needs lists longer than its one-by-one threshold:
    // 12 valid records (difficulty 0), then the same with one bad signature.
    let batch_entries: Vec<proto::PeerEntry> = (0..12u8)
        .map(|n| {
            let id = Identity::from_seed(&seed(100 + n)).unwrap();
            let body = RecordBody {
                address: id.address(),
                network: NetworkName::default_network(),
                role: Role::Participant,
                ports: vec![80],
                issued_at: NOW - u64::from(n),
                sequence: u64::from(n),
                pow_difficulty: 0,
                pow_nonce: 0,
                tcp_endpoint: None,
            };
            proto::PeerEntry {
                record: Some(body.sign(&id).unwrap().to_proto()),
                status: 1,
                last_seen: NOW,
                learned_from: String::new(),
            }
        })
        .collect();
    let mut batch = proto::PeerList {
        network: "torpeer".into(),
        source: records[0].onion.clone(),
        generated_at: NOW,
        peers: batch_entries,
    };
    seeds.push(("record_batch/valid-12.bin".into(), batch.encode_to_vec()));
    seeds.push((
        "record_batch/valid-12.json".into(),
        serde_json::to_vec(&batch).unwrap(),
    ));
    if let Some(r) = batch.peers[5].record.as_mut() {
        r.signature[10] ^= 4;
    }
    seeds.push((
        "record_batch/one-bad-signature.bin".into(),
        batch.encode_to_vec(),
    ));

    let frame = |k: Kind| encode_frame(k, DEFAULT_MAX_FRAME_LEN).unwrap();
    let mut stream = Vec::new();
    stream.extend(frame(Kind::Ping(proto::Ping { nonce: 7 })));
    stream.extend(frame(Kind::Peers(proto::Peers {
        request_id: 1,
        peers: entries,
        filtered: false,
        cursor: None,
    })));
    stream.extend(frame(Kind::GetPeers(proto::GetPeers {
        request_id: 2,
        max: 50,
        role: 1,
        online_only: true,
        known: None,
        since: None,
    })));
    stream.extend(frame(Kind::AppData(proto::AppData {
        data: b"hello".to_vec(),
    })));
    stream.extend(frame(Kind::Hello(proto::Hello {
        version: 1,
        network: "torpeer".into(),
        record: Some(records[0].clone()),
        nonce: vec![0xab; 32],
        target: records[1].onion.clone(),
    })));
    stream.extend(frame(Kind::Goodbye(proto::Goodbye {
        reason: "bye".into(),
        rotating: false,
    })));
    // Chunking byte, then the stream.
    for chunking in [0u8, 1, 7, 64] {
        let mut s = vec![chunking];
        s.extend_from_slice(&stream);
        seeds.push((format!("frames/stream-chunk{chunking}"), s));
    }
    // An unknown kind (field 99) between two pings, and an oversized prefix.
    let mut unknown = vec![3u8];
    unknown.extend(frame(Kind::Ping(proto::Ping { nonce: 1 })));
    unknown.extend([3, 0x98, 0x06, 0x01]);
    unknown.extend(frame(Kind::Pong(proto::Pong { nonce: 1 })));
    seeds.push(("frames/unknown-kind".into(), unknown));
    seeds.push(("frames/too-large".into(), vec![5, 0xff, 0xff, 0x7f]));

    let onion = generate_onion();
    for (i, case) in onion["valid"].as_array().unwrap().iter().enumerate() {
        seeds.push((
            format!("onion/valid-{i}"),
            str_of(&case["onion"]).as_bytes().to_vec(),
        ));
        seeds.push((
            format!("onion/key-{i}"),
            hex32(&case["public_key"]).to_vec(),
        ));
    }
    for (i, case) in onion["invalid"].as_array().unwrap().iter().enumerate() {
        seeds.push((
            format!("onion/invalid-{i}"),
            str_of(&case["input"]).as_bytes().to_vec(),
        ));
    }

    // flags | sk_len | sk | pk_len | pk | hostname
    let hsdir_seed = |flags: u8, sk: &[u8], pk: &[u8], host: &[u8]| {
        let mut s = vec![flags, u8::try_from(sk.len()).unwrap()];
        s.extend_from_slice(sk);
        s.push(u8::try_from(pk.len()).unwrap());
        s.extend_from_slice(pk);
        s.extend_from_slice(host);
        s
    };
    for n in 0..3u8 {
        let id = Identity::from_seed(&seed(n)).unwrap();
        let sk = hsdir::encode_secret_key_file(&id);
        let pk = hsdir::encode_public_key_file(&id.address());
        let host = hsdir::encode_hostname_file(&id.address());
        seeds.push((
            format!("hsdir/all-{n}"),
            hsdir_seed(3, &sk[..], &pk, host.as_bytes()),
        ));
    }
    let a = Identity::from_seed(&seed(0)).unwrap();
    let b = Identity::from_seed(&seed(1)).unwrap();
    let sk = hsdir::encode_secret_key_file(&a);
    seeds.push(("hsdir/secret-only".into(), hsdir_seed(0, &sk[..], &[], &[])));
    let pk = hsdir::encode_public_key_file(&b.address());
    seeds.push(("hsdir/mismatch".into(), hsdir_seed(1, &sk[..], &pk, &[])));
    seeds
}

#[test]
fn fuzz_seeds_are_committed() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds");
    let seeds = generate_fuzz_seeds();
    let regen = std::env::var(REGEN_ENV).is_ok_and(|v| v == "1");
    for (name, bytes) in &seeds {
        let path = root.join(name);
        if regen {
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, bytes).unwrap();
        } else {
            let committed = fs::read(&path)
                .unwrap_or_else(|e| panic!("{}: {e}; run with {REGEN_ENV}=1", path.display()));
            assert!(
                &committed == bytes,
                "{} is stale; run with {REGEN_ENV}=1",
                path.display()
            );
        }
    }
    // Every target has seeds.
    for target in [
        "frames",
        "record_binary",
        "record_json",
        "record_batch",
        "onion",
        "hsdir",
    ] {
        assert!(
            seeds
                .iter()
                .any(|(n, _)| n.starts_with(&format!("{target}/")))
        );
    }
}
