//! `cryptanet watch`: follow anomaly alerts with their explanations.

use crate::client::Client;
use clap::Args;
use std::io::IsTerminal as _;
use std::time::Duration;

/// Arguments of `cryptanet watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Who watches, through which peer.
    #[command(flatten)]
    pub who: super::chaincode::Identity,
    /// Chaincode whose events to follow.
    #[arg(long, default_value = "supply-chain")]
    pub chaincode: String,
    /// First block to read (default: the next block).
    #[arg(long)]
    pub from_block: Option<u64>,
    /// Stop after this many alerts.
    #[arg(long)]
    pub count: Option<usize>,
    /// Stop after this many seconds.
    #[arg(long)]
    pub seconds: Option<u64>,
    /// Colour: auto (when stdout is a terminal), always or never.
    #[arg(long, default_value = "auto")]
    pub color: String,
}

struct Paint(bool);

impl Paint {
    fn red(&self, s: &str) -> String {
        self.wrap("1;31", s)
    }
    fn yellow(&self, s: &str) -> String {
        self.wrap("33", s)
    }
    fn dim(&self, s: &str) -> String {
        self.wrap("2", s)
    }
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }
}

/// Readable value of a reading field in its integer unit.
fn unit(feature: &str, v: i64) -> String {
    match feature {
        "temperature" => format!("{:.1} °C", v as f64 / 1000.0),
        "humidity" => format!("{:.1} %RH", v as f64 / 1000.0),
        _ => v.to_string(),
    }
}

/// One alert, in words: which shipment, when, how anomalous, and why.
pub fn describe(event: &serde_json::Value, block: u64, paint_on: bool) -> String {
    let p = Paint(paint_on);
    let e = &event["explanation"];
    let score = e["score_ppm"].as_i64().unwrap_or(0) as f64 / 1e6;
    let threshold = e["threshold_ppm"].as_i64().unwrap_or(0) as f64 / 1e6;
    let mut out = format!(
        "{} shipment {} reading {} {}\n  score {:.3} (threshold {:.3}, model {})",
        p.red("ANOMALY"),
        event["shipment"].as_str().unwrap_or("?"),
        event["timestamp_ms"],
        p.dim(&format!("block {block}")),
        score,
        threshold,
        &e["model"].as_str().unwrap_or("?")[..12.min(e["model"].as_str().unwrap_or("?").len())],
    );
    for b in e["breaches"].as_array().into_iter().flatten() {
        let feature = b["feature"].as_str().unwrap_or("?");
        let kind = b["kind"].as_str().unwrap_or("?");
        let (obs, lim, by) = (
            b["observed"].as_i64().unwrap_or(0),
            b["limit"].as_i64().unwrap_or(0),
            b["by_how_much"].as_i64().unwrap_or(0),
        );
        let side = if kind.contains("Above") {
            "above the maximum"
        } else if kind.contains("Below") {
            "below the minimum"
        } else {
            "against the limit"
        };
        out.push_str(&format!(
            "\n  {} {feature} {} {side} {} by {} (for {} s)",
            p.yellow("rule"),
            unit(feature, obs),
            unit(feature, lim),
            unit(feature, by),
            b["duration_s"].as_i64().unwrap_or(0)
        ));
    }
    let top: Vec<String> = e["top"]
        .as_array()
        .into_iter()
        .flatten()
        .take(3)
        .map(|t| {
            format!(
                "{} {:+.2}",
                t["feature"].as_str().unwrap_or("?"),
                t["ppm"].as_i64().unwrap_or(0) as f64 / 1e6
            )
        })
        .collect();
    if !top.is_empty() {
        out.push_str(&format!("\n  top features: {}", top.join(", ")));
    }
    out
}

/// Follows alerts until `--count`, `--seconds` or Ctrl-C.
pub fn run(args: WatchArgs, out: &mut impl std::io::Write) -> anyhow::Result<()> {
    let color = match args.color.as_str() {
        "always" => true,
        "never" => false,
        _ => std::io::stdout().is_terminal(),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let client: Client = args.who.connect("client").await?;
        let mut stream = client
            .peer()
            .chaincode_events(&args.chaincode, args.from_block)
            .await?;
        let deadline = args
            .seconds
            .map(|s| tokio::time::Instant::now() + Duration::from_secs(s));
        let mut seen = 0usize;
        loop {
            if args.count.is_some_and(|c| seen >= c) {
                return Ok(());
            }
            let next = match deadline {
                Some(d) => match tokio::time::timeout_at(d, stream.message()).await {
                    Ok(m) => m,
                    Err(_) => return Ok(()),
                },
                None => stream.message().await,
            };
            let Some(block) = next.map_err(cryptanet_proto::Error::from)? else {
                return Ok(());
            };
            for ev in &block.events {
                let Ok(payload) = serde_json::from_slice::<serde_json::Value>(&ev.payload) else {
                    writeln!(
                        out,
                        "{} (undecodable payload) block {}",
                        ev.event_name, block.block_number
                    )?;
                    continue;
                };
                writeln!(out, "{}", describe(&payload, block.block_number, color))?;
                out.flush()?;
                seen += 1;
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alert_names_the_feature_the_range_and_the_excess() {
        let e = serde_json::json!({
            "shipment": "VAX-1", "timestamp_ms": 1700049660000u64, "score_ppm": 1000000, "rules": 1,
            "explanation": {"model": "6c0e82bb5d7d0faf22f1", "score_ppm": 912000, "threshold_ppm": 600000,
              "top": [{"feature": "temperature", "ppm": 850000}],
              "breaches": [{"kind": "TemperatureAboveSpec", "feature": "temperature",
                            "observed": 14000, "limit": 8000, "by_how_much": 6000, "duration_s": 0}]}
        });
        let text = describe(&e, 7, false);
        assert!(text.contains("shipment VAX-1"), "{text}");
        assert!(
            text.contains("temperature 14.0 °C above the maximum 8.0 °C by 6.0 °C"),
            "{text}"
        );
        assert!(text.contains("top features: temperature +0.85"), "{text}");
        assert!(!text.contains('\x1b'));
        assert!(describe(&e, 7, true).contains("\x1b[1;31mANOMALY"));
    }
}
