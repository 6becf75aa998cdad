#!/usr/bin/env python3
"""Reader-page benchmark: Lighthouse (mobile) on the demo story, and the
story page's throughput under wrk against nginx serving the same bytes as a
static file, in the same run. Writes bench/results/pages.{md,json}.

Run through bench/pages, which installs the tools."""

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

SLUG = "photos-putin-visits-chinas-harbin"
ROOT = Path(__file__).resolve().parent.parent


def start_photodesk(binary, data_dir):
    child = subprocess.Popen(
        [binary, "--data-dir", data_dir, "demo", "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "PHOTODESK_LOG": "warn"},
    )
    for line in child.stdout:
        found = re.search(r"serving (http://[\d.:]+)", line)
        if found:
            return child, found.group(1)
    sys.exit("photodesk did not start")


def wait_for_avif(base):
    """Pages are measured as readers get them once AVIF renditions exist."""
    for _ in range(480):
        story = json.load(urllib.request.urlopen(f"{base}/api/v1/stories/{SLUG}"))
        if all(any(r["format"] == "avif" for r in s["photo"]["renditions"]) for s in story["slides"]):
            time.sleep(1.1)  # past the page cache's second
            return
        time.sleep(0.5)
    sys.exit("AVIF renditions were not made in 4 minutes")


def lighthouse(tool, url, runs):
    results = []
    for _ in range(runs):
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            subprocess.run(
                [tool, url, "--quiet", "--output=json", f"--output-path={out.name}",
                 "--chrome-flags=--headless=new --no-sandbox --disable-gpu"],
                check=True, env={**os.environ, "CHROME_PATH": "/usr/bin/chromium"},
            )
            report = json.load(open(out.name))
        audits = report["audits"]
        results.append({
            **{f"{k}_score": round(v["score"] * 100) for k, v in report["categories"].items()},
            "lcp_ms": audits["largest-contentful-paint"]["numericValue"],
            "cls": audits["cumulative-layout-shift"]["numericValue"],
            "tbt_ms": audits["total-blocking-time"]["numericValue"],
            "fcp_ms": audits["first-contentful-paint"]["numericValue"],
            "total_bytes": audits["total-byte-weight"]["numericValue"],
            "failing": sorted(
                ref["id"] for cat in report["categories"].values() for ref in cat["auditRefs"]
                if ref["weight"] > 0 and (audits[ref["id"]]["score"] or 1) < 1
            ),
        })
    median = {k: statistics.median(r[k] for r in results) for k in results[0] if k != "failing"}
    median["failing"] = sorted({a for r in results for a in r["failing"]})
    return {"runs": results, "median": median}


def wrk(url, seconds, connections):
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        check=True, capture_output=True, text=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def ms(label):
        value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)\b", out).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50_ms": ms("50%"), "p99_ms": ms("99%"),
            "non_2xx": int(errors.group(1)) if errors else 0}


def start_nginx(root, port):
    conf = root / "nginx.conf"
    conf.write_text(f"""worker_processes auto;
pid {root}/nginx.pid;
error_log {root}/error.log;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  default_type text/html;
  sendfile on;
  server {{ listen 127.0.0.1:{port}; root {root}/html; }}
}}
""")
    subprocess.run(["nginx", "-c", str(conf)], check=True)
    return conf


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--photodesk", default=str(ROOT / "target/release/photodesk"))
    parser.add_argument("--lighthouse", required=True)
    parser.add_argument("--lighthouse-runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default=str(ROOT / "bench/results"))
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="photodesk-pages-"))
    work.chmod(0o755)  # nginx's workers run as an unprivileged user
    child, base = start_photodesk(args.photodesk, str(work / "data"))
    nginx_conf = None
    try:
        wait_for_avif(base)
        story_url = f"{base}/stories/{SLUG}"
        print(f"Lighthouse ×{args.lighthouse_runs} on {story_url}", flush=True)
        lh = lighthouse(args.lighthouse, story_url, args.lighthouse_runs)

        html = urllib.request.urlopen(story_url).read()
        (work / "html").mkdir()
        (work / "html" / "story.html").write_bytes(html)
        nginx_conf = start_nginx(work, 18089)
        nginx_url = "http://127.0.0.1:18089/story.html"
        assert urllib.request.urlopen(nginx_url).read() == html

        runs = {"photodesk": [], "nginx": []}
        for round_ in range(args.rounds):
            # Alternate the order so drift on a noisy machine hits both.
            order = [("photodesk", story_url), ("nginx", nginx_url)]
            for name, url in order if round_ % 2 == 0 else order[::-1]:
                result = wrk(url, args.seconds, args.connections)
                print(f"  {name}: {result}", flush=True)
                runs[name].append(result)
        median = {name: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for name, rs in runs.items()}
    finally:
        if nginx_conf:
            subprocess.run(["nginx", "-c", str(nginx_conf), "-s", "stop"], check=False)
        child.send_signal(signal.SIGTERM)
        child.wait()
        shutil.rmtree(work, ignore_errors=True)

    ratio = median["photodesk"]["rps"] / median["nginx"]["rps"]
    result = {
        "page_bytes": len(html), "lighthouse": lh, "wrk": {"runs": runs, "median": median},
        "rps_ratio_vs_nginx": ratio,
        "settings": {"seconds": args.seconds, "connections": args.connections, "rounds": args.rounds,
                     "cpus": os.cpu_count()},
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "pages.json").write_text(json.dumps(result, indent=2) + "\n")
    m, p, n = lh["median"], median["photodesk"], median["nginx"]
    (out / "pages.md").write_text(f"""# Reader pages: Lighthouse and throughput

Demo story ({SLUG}, 12 slides), {len(html):,}-byte page. Medians of {args.lighthouse_runs} Lighthouse runs
and {args.rounds} wrk rounds ({args.seconds} s, {args.connections} connections, 2 threads, 127.0.0.1, {os.cpu_count()} CPUs shared by server and wrk).

| Lighthouse (mobile) | performance | accessibility | best practices | SEO | LCP | CLS | TBT | FCP | first-view bytes |
|---|---|---|---|---|---|---|---|---|---|
| story page | {m['performance_score']:.0f} | {m['accessibility_score']:.0f} | {m['best-practices_score']:.0f} | {m['seo_score']:.0f} | {m['lcp_ms']:.0f} ms | {m['cls']:.3f} | {m['tbt_ms']:.0f} ms | {m['fcp_ms']:.0f} ms | {m['total_bytes'] / 1024:.0f} KiB |

Audits below 100 in any run: {', '.join(m['failing']) or 'none'}.

| story page | requests/s | p50 | p99 | ratio |
|---|---|---|---|---|
| Photodesk | {p['rps']:,.0f} | {p['p50_ms']:.2f} ms | {p['p99_ms']:.2f} ms | {ratio:.2f}× nginx |
| nginx (same bytes, static file) | {n['rps']:,.0f} | {n['p50_ms']:.2f} ms | {n['p99_ms']:.2f} ms | 1.00× |
""")
    print((out / "pages.md").read_text())


if __name__ == "__main__":
    main()
