//! The local application API through the real binary: a message posted to
//! node A's `POST /v1/messages` arrives on node B's `GET /v1/events`; the
//! token guards both; limits and role errors come back as JSON.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;

fn token(node: &NodeProc) -> String {
    std::fs::read_to_string(node.data_dir.join("api.token"))
        .unwrap()
        .trim()
        .to_owned()
}

fn onion(node: &NodeProc) -> String {
    status(node.http)["onion"].as_str().unwrap().to_owned()
}

fn post_message(http: SocketAddr, auth: Option<&str>, body: &str) -> (u16, serde_json::Value) {
    let auth = auth
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    // Sent with `Expect: 100-continue`: the server may refuse on the head
    // alone (401, 413) and close, and the oversized body must not then be
    // written into a closed socket.
    let head = format!(
        "POST /v1/messages HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close",
        body.len()
    );
    let (code, _, body) = http_expect_continue(http, &head, body.as_bytes());
    let json = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    (code, json)
}

#[test]
fn messages_flow_between_nodes_and_the_token_guards_them() {
    let dir = tempfile::tempdir().unwrap();
    let router = start(&dir.path().join("r"), "router", &[]);
    let contact = tcp_contact(router.http);
    let a = start(
        &dir.path().join("a"),
        "participant",
        std::slice::from_ref(&contact),
    );
    let b = start(&dir.path().join("b"), "participant", &[contact]);
    for n in [&a, &b] {
        wait_for("the two participants and the router to meet", || {
            (status(n.http)["known_peers"].as_u64()? >= 2).then_some(())
        });
    }
    let (a_token, b_token) = (token(&a), token(&b));
    assert_eq!(a_token.len(), 64);
    assert_ne!(a_token, b_token, "each node makes its own token");
    let b_onion = onion(&b);
    let a_onion = onion(&a);

    let events = subscribe(b.http, &b_token);
    let body = format!(r#"{{"to": "{b_onion}", "data": "aGVsbG8gQg=="}}"#);

    // Without a token, or with the wrong one: 401 and nothing is sent.
    let (code, err) = post_message(a.http, None, &body);
    assert_eq!(code, 401, "{err}");
    assert_eq!(err["code"], "unauthorized");
    let (code, _) = post_message(a.http, Some(&b_token), &body);
    assert_eq!(code, 401, "another node's token must not work");
    let (code, _) = post_message(a.http, Some(&format!("{}0", &a_token[1..])), &body);
    assert_eq!(code, 401);
    // The events endpoint is guarded the same way.
    let (code, _, _) = get(b.http, "/v1/events");
    assert_eq!(code, 401);

    // With A's token the message reaches B's event stream, sender attached.
    let got = wait_for("the message on B's event stream", || {
        let (code, reply) = post_message(a.http, Some(&a_token), &body);
        assert!(code == 202 || code == 409, "{code} {reply}");
        let deadline = std::time::Instant::now() + Duration::from_secs(3);
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            match events.recv_timeout(left) {
                Ok((kind, v)) if kind == "message" => return Some(v),
                Ok(_) => {}
                Err(_) => break,
            }
        }
        None
    });
    assert_eq!(got["from"], a_onion);
    assert_eq!(got["data"], "aGVsbG8gQg==");
    // The unauthorised attempts before it sent nothing: exactly one message
    // per accepted post arrived, and no earlier one.
    let received = status(b.http)["messages_received"].as_u64().unwrap();
    assert!(received >= 1);

    // Errors are JSON with a stable code.
    let (code, err) = post_message(a.http, Some(&a_token), "{not json");
    assert_eq!((code, err["code"].as_str()), (400, Some("bad_json")));
    let (code, err) = post_message(
        a.http,
        Some(&a_token),
        r#"{"to": "nope.onion", "data": ""}"#,
    );
    assert_eq!((code, err["code"].as_str()), (400, Some("bad_address")));
    let (code, err) = post_message(
        a.http,
        Some(&a_token),
        &format!(r#"{{"to": "{b_onion}", "data": "***"}}"#),
    );
    assert_eq!((code, err["code"].as_str()), (400, Some("bad_base64")));
    // A router refuses application data.
    let router_onion = onion(&router);
    let (code, err) = post_message(
        a.http,
        Some(&a_token),
        &format!(r#"{{"to": "{router_onion}", "data": "aGk="}}"#),
    );
    assert_eq!(
        (code, err["code"].as_str()),
        (403, Some("router_refuses")),
        "{err}"
    );
    // A well-formed address nobody knows.
    let stranger = torpeer_core::Identity::from_seed(&[77; 32])
        .unwrap()
        .address();
    let (code, err) = post_message(
        a.http,
        Some(&a_token),
        &format!(r#"{{"to": "{stranger}", "data": "aGk="}}"#),
    );
    assert_eq!((code, err["code"].as_str()), (404, Some("unknown_peer")));

    // Oversized: 413 with a JSON error, and the node keeps serving.
    let big = "A".repeat(2 * 1024 * 1024);
    let (code, err) = post_message(
        a.http,
        Some(&a_token),
        &format!(r#"{{"to": "{b_onion}", "data": "{big}"}}"#),
    );
    assert_eq!(
        (code, err["code"].as_str()),
        (413, Some("too_large")),
        "{err}"
    );
    assert_eq!(status(a.http)["role"], "participant");

    // A router node's own API refuses to send (it does not carry app data).
    let (code, err) = post_message(
        router.http,
        Some(&token(&router)),
        &format!(r#"{{"to": "{b_onion}", "data": "aGk="}}"#),
    );
    assert_eq!((code, err["code"].as_str()), (403, Some("local_is_router")));

    // The same local-API path as the over-Tor figures in arti_tornet.rs, on
    // loopback tcp (BENCHMARKS.md "Application messages").
    api_message_figures(
        "on loopback tcp",
        (a.http, &a.data_dir, &a_onion),
        (b.http, &b.data_dir),
        &b_onion,
    );
}
