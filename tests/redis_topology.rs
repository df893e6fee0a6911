//! `wsdoctor redis` against real multi-node deployments: a master with three sentinels
//! (`redis-server --sentinel`) and a three-master Cluster built with
//! `redis-cli --cluster create … --cluster-yes`.

mod redis_support;

use std::time::Duration;

use redis_support::*;

const PW: &str = "Sentinel-master-pw";

macro_rules! need_redis {
    ($name:expr) => {
        if !have(REDIS_SERVER, $name) || !have(REDIS_CLI, $name) {
            return;
        }
    };
}

/// A password-protected master watched by three sentinels that know each other.
struct SentinelSetup {
    master: RedisServer,
    sentinels: Vec<RedisServer>,
}

fn sentinel_setup() -> SentinelSetup {
    let master = RedisServer::start(&["--requirepass", PW, "--timeout", "300"]);
    let conf = format!(
        "sentinel monitor mymaster 127.0.0.1 {} 2\n\
         sentinel auth-pass mymaster {PW}\n\
         sentinel down-after-milliseconds mymaster 30000\n",
        master.port
    );
    let sentinels: Vec<RedisServer> = (0..3)
        .map(|_| RedisServer::start_sentinel(free_port(), &conf))
        .collect();
    // Sentinels find each other through hello messages on the master every 2 s.
    for s in &sentinels {
        s.wait_until("sentinel discovery", Duration::from_secs(30), |s| {
            s.cli(&["SENTINEL", "SENTINELS", "mymaster"])
                .lines()
                .filter(|l| l.trim() == "name")
                .count()
                == 2
        });
    }
    SentinelSetup { master, sentinels }
}

#[test]
fn sentinel_resolves_the_master_and_counts_three_sentinels() {
    need_redis!("sentinel_resolves_the_master_and_counts_three_sentinels");
    let setup = sentinel_setup();
    let expected = all_checks(
        "pass",
        &[
            ("redis.tls", "skip"),
            ("redis.pubsub", "warn"),
            ("redis.cluster", "skip"),
        ],
    );

    // --sentinel flags, credentials from the URL.
    let mut args = vec![format!("redis://:{PW}@unused-host/0")];
    for s in &setup.sentinels {
        args.push("--sentinel".into());
        args.push(s.addr());
    }
    args.extend(["--master".to_string(), "mymaster".to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = wsdoctor_json(&args);
    assert_eq!(run.statuses(), expected, "{}", run.stdout);
    assert_eq!(run.evidence("redis.sentinel", "sentinels_known"), 3);
    assert_eq!(run.evidence("redis.sentinel", "sentinels_answering"), 3);
    assert_eq!(
        run.evidence("redis.sentinel", "master"),
        setup.master.addr().as_str()
    );
    assert_eq!(
        run.evidence("redis.connect", "address"),
        setup.master.addr().as_str()
    );
    assert!(!run.stdout.contains(PW));

    // The redis+sentinel:// URL form.
    let hosts: Vec<String> = setup.sentinels.iter().map(RedisServer::addr).collect();
    let url = format!("redis+sentinel://:{PW}@{}/mymaster/0", hosts.join(","));
    let run = wsdoctor_json(&[&url]);
    assert_eq!(run.statuses(), expected, "{}", run.stdout);
    assert_eq!(run.evidence("redis.version", "role"), "master");
}

#[test]
fn sentinel_unknown_master_and_unreachable_sentinel() {
    need_redis!("sentinel_unknown_master_and_unreachable_sentinel");
    let setup = sentinel_setup();
    let hosts: Vec<String> = setup.sentinels.iter().map(RedisServer::addr).collect();

    let url = format!("redis+sentinel://:{PW}@{}/nosuchmaster", hosts.join(","));
    let run = wsdoctor_json(&[&url]);
    assert_eq!(
        run.statuses(),
        all_checks("skip", &[("redis.sentinel", "fail")]),
        "{}",
        run.stdout
    );
    assert!(run.message("redis.sentinel").contains("nosuchmaster"));
    assert_eq!(
        run.evidence("redis.connect", "depends_on"),
        "redis.sentinel"
    );

    // Two live sentinels and one address where nothing listens: still usable, but warned.
    let dead = format!("127.0.0.1:{}", free_port());
    let url = format!(
        "redis+sentinel://:{PW}@{},{},{dead}/mymaster",
        hosts[0], hosts[1]
    );
    let run = wsdoctor_json(&[&url]);
    assert_eq!(run.statuses()["redis.sentinel"], "warn", "{}", run.stdout);
    assert_eq!(run.statuses()["redis.connect"], "pass");
    assert_eq!(run.evidence("redis.sentinel", "sentinels_answering"), 2);
    assert!(
        run.message("redis.sentinel")
            .contains("unreachable sentinels")
    );
}

/// Three masters, slots 0-16383 spread by `redis-cli --cluster create`.
fn cluster_setup() -> Vec<RedisServer> {
    let nodes: Vec<RedisServer> = (0..3)
        .map(|_| {
            RedisServer::start_on(
                free_cluster_port(),
                &[
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    "nodes.conf",
                    "--cluster-node-timeout",
                    "15000",
                    "--timeout",
                    "300",
                ],
            )
        })
        .collect();
    let mut create = std::process::Command::new(REDIS_CLI);
    create.arg("--cluster").arg("create");
    for n in &nodes {
        create.arg(n.addr());
    }
    let out = create
        .args(["--cluster-replicas", "0", "--cluster-yes"])
        .output()
        .expect("redis-cli --cluster create");
    assert!(
        out.status.success(),
        "cluster create failed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    for n in &nodes {
        n.wait_until("cluster_state:ok", Duration::from_secs(30), |n| {
            let info = n.cli(&["CLUSTER", "INFO"]);
            info.contains("cluster_state:ok") && info.contains("cluster_known_nodes:3")
        });
    }
    nodes
}

#[test]
fn cluster_of_three_masters() {
    need_redis!("cluster_of_three_masters");
    let mut nodes = cluster_setup();
    let url = format!("redis://127.0.0.1:{}", nodes[0].port);
    let run = wsdoctor_json(&[&url]);
    assert_eq!(
        run.statuses(),
        all_checks(
            "pass",
            &[
                ("redis.tls", "skip"),
                ("redis.pubsub", "warn"),
                ("redis.sentinel", "skip"),
            ]
        ),
        "{}",
        run.stdout
    );
    assert_eq!(run.evidence("redis.cluster", "masters"), 3);
    assert_eq!(run.evidence("redis.cluster", "masters_reachable"), 3);
    assert_eq!(run.evidence("redis.cluster", "slots_ok"), 16384);
    assert_eq!(run.evidence("redis.version", "mode"), "cluster");

    // A cluster has only db 0.
    let run = wsdoctor_json(&[&format!("{url}/1")]);
    assert_eq!(run.statuses()["redis.db-select"], "fail", "{}", run.stdout);
    assert!(
        run.check("redis.db-select")["hint"]
            .as_str()
            .unwrap_or("")
            .contains("db 0")
    );

    // A master that stopped answering: still listed (node timeout 15 s), now unreachable.
    drop(nodes.pop());
    let run = wsdoctor_json(&[&url]);
    assert_eq!(run.statuses()["redis.cluster"], "warn", "{}", run.stdout);
    assert_eq!(run.evidence("redis.cluster", "masters_reachable"), 2);
    assert!(run.message("redis.cluster").contains("unreachable"));
}
