//! The report: rows of the printed table, the figures of results.json and the
//! charts of results.svg.

use std::path::Path;

use serde_json::{json, Value};

/// One row of the printed table.
pub struct Row {
    pub measure: String,
    pub ours: String,
    pub other: String,
    pub target: String,
    pub met: Option<bool>,
}

/// What a run found: the rows printed and the figures written.
#[derive(Default)]
pub struct Report {
    pub rows: Vec<Row>,
    pub results: serde_json::Map<String, Value>,
}

impl Report {
    pub fn row(
        &mut self,
        measure: impl Into<String>,
        ours: impl Into<String>,
        other: impl Into<String>,
        target: impl Into<String>,
        met: Option<bool>,
    ) {
        self.rows.push(Row {
            measure: measure.into(),
            ours: ours.into(),
            other: other.into(),
            target: target.into(),
            met,
        });
    }

    pub fn set(&mut self, key: &str, value: Value) {
        self.results.insert(key.to_owned(), value);
    }

    /// Prints the table, and writes results.json and results.svg.
    pub fn finish(mut self, quick: bool) {
        print_table(&self.rows);
        let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("benchmark-results");
        std::fs::create_dir_all(&out).unwrap();
        self.set("quick", json!(quick));
        std::fs::write(
            out.join("results.json"),
            serde_json::to_string_pretty(&Value::Object(self.results.clone())).unwrap(),
        )
        .unwrap();
        std::fs::write(out.join("results.svg"), svg(&self.results)).unwrap();
        println!("\nwrote benchmark-results/results.json and benchmark-results/results.svg");
    }
}

pub fn print_table(rows: &[Row]) {
    println!(
        "\n{:<58} | {:<44} | {:<44} | {:<30} | met",
        "measure", "ours", "comparison", "target"
    );
    println!("{}", "-".repeat(190));
    for r in rows {
        let met = match r.met {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "-",
        };
        println!(
            "{:<58} | {:<44} | {:<44} | {:<30} | {met}",
            r.measure, r.ours, r.other, r.target
        );
    }
}

/// Four small log-scale line charts: throughput and memory against chunk size and
/// against the number of concurrent streams.
fn svg(results: &serde_json::Map<String, Value>) -> String {
    let series = |key: &str, x: &str, y: &str| -> Vec<(f64, f64)> {
        results[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p[x].as_f64().unwrap(), p[y].as_f64().unwrap().max(0.01)))
            .collect()
    };
    let panels = [
        (
            "chunks/s vs chunk size (bytes)",
            series("by_size", "size", "chunks_per_s"),
        ),
        (
            "RSS added (MiB) vs chunk size (bytes)",
            series("by_size", "size", "rss_added_mib"),
        ),
        (
            "aggregate chunks/s vs concurrent streams (unpaced)",
            series("by_streams", "streams", "chunks_per_s"),
        ),
        (
            "RSS added (MiB), streams open and delivering",
            series("by_streams", "streams", "rss_added_mib"),
        ),
    ];
    let (w, h) = (420.0, 260.0);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
        w * 2.0,
        h * 2.0
    );
    for (i, (title, pts)) in panels.iter().enumerate() {
        let (ox, oy) = ((i % 2) as f64 * w, (i / 2) as f64 * h);
        let (l, r, t, b) = (ox + 60.0, ox + w - 45.0, oy + 30.0, oy + h - 40.0);
        let lx: Vec<f64> = pts.iter().map(|p| p.0.log10()).collect();
        let ly: Vec<f64> = pts.iter().map(|p| p.1.log10()).collect();
        let (x0, x1) = (
            lx.iter().cloned().fold(f64::MAX, f64::min),
            lx.iter().cloned().fold(f64::MIN, f64::max),
        );
        let (y0, y1) = (
            ly.iter().cloned().fold(f64::MAX, f64::min).floor(),
            ly.iter()
                .cloned()
                .fold(f64::MIN, f64::max)
                .ceil()
                .max(ly[0].floor() + 1.0),
        );
        let px = |v: f64| l + (v - x0) / (x1 - x0).max(1e-9) * (r - l);
        let py = |v: f64| b - (v - y0) / (y1 - y0).max(1e-9) * (b - t);
        s += &format!(
            "<text x=\"{}\" y=\"{}\" font-weight=\"bold\">{title}</text>\n",
            l,
            oy + 18.0
        );
        s += &format!(
            "<polyline fill=\"none\" stroke=\"#999\" points=\"{l},{t} {l},{b} {r},{b}\"/>\n"
        );
        for d in (y0 as i32)..=(y1 as i32) {
            s += &format!(
                "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">1e{d}</text>\n",
                l - 4.0,
                py(d as f64) + 4.0
            );
        }
        let line: Vec<String> = lx
            .iter()
            .zip(&ly)
            .map(|(x, y)| format!("{:.1},{:.1}", px(*x), py(*y)))
            .collect();
        s += &format!(
            "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"{}\"/>\n",
            line.join(" ")
        );
        for ((x, y), p) in lx.iter().zip(&ly).zip(pts) {
            s += &format!(
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"#1f77b4\"/>\n",
                px(*x),
                py(*y)
            );
            s += &format!(
                "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                px(*x),
                b + 14.0,
                p.0
            );
        }
    }
    s + "</svg>\n"
}
