"""Rendition benchmark: photodesk render against vipsthumbnail, sharp and
Pillow (with draft), on the same photos in the same run, tools alternating.

Every job is one process per photo: wall time from a monotonic clock around
it, user+sys CPU from its rusage, peak RSS from /usr/bin/time. Per photo the
median over the repeats is taken; the tables show the median over photos of
those, and ratios against libvips.
Quality: DSSIM (lower is better) of each tool's 2048-px JPEG against one
reference resize (Pillow, full decode, EXIF orientation, ICC to sRGB with
LittleCMS, Lanczos).

Usage: python3 bench/images.py --photodesk BIN --dssim BIN --node-path DIR
       [--corpus DIR] [--photos 20] [--repeats 3] [--tasks a,b,c] [--out DIR]
"""
import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageCms, ImageOps

HERE = Path(__file__).resolve().parent


def largest_jpegs(corpus, count):
    """The `count` largest JPEGs by pixel count, leaving out generated files."""
    sized = []
    for path in sorted(corpus.glob("*.jpg")):
        if "generated" in path.name:
            continue
        with Image.open(path) as image:
            sized.append((image.width * image.height, path))
    sized.sort(key=lambda item: -item[0])
    return [path for _, path in sized[:count]]


def commands(args, task, photo, out):
    """Each tool's command line for one task on one photo."""
    pd = [args.photodesk, "render", "--out", str(out)]
    vips = lambda size, target: ["vipsthumbnail", str(photo), "-s", size, "-o", f"{out}/%s-{target}"]
    sharp = ["node", str(HERE / "sharp-job.js"), task, str(photo), str(out)]
    pillow = [sys.executable, str(HERE / "pillow-job.py"), task, str(photo), str(out)]
    if task == "a":
        return {
            "photodesk": pd + ["--widths", "2048,400", "--format", "jpeg", "--quality", "82", str(photo)],
            "libvips": ["sh", "-c", " && ".join(
                " ".join(f"'{part}'" for part in vips(size, target))
                for size, target in [("2048x", "2048.jpg[Q=82,strip,interlace]"), ("400x", "400.jpg[Q=82,strip,interlace]")]
            )],
            "sharp": sharp,
            "pillow": pillow,
            "djpeg-floor": ["djpeg", "-scale", "1/2", "-outfile", "/dev/null", str(photo)],
        }
    if task == "b":
        return {
            "photodesk": pd + ["--widths", "2048", "--format", "webp", "--quality", "80", str(photo)],
            "libvips": vips("2048x", "2048.webp[Q=80,strip]"),
            "sharp": sharp,
            "pillow": pillow,
        }
    if task == "c":
        return {
            "photodesk": pd + ["--widths", "320,640,1024,1600,2048", "--format", "jpeg,webp,avif", str(photo)],
            "libvips": ["sh", "-c", " && ".join(
                " ".join(f"'{part}'" for part in vips("2048x", target))
                for target in ["2048.jpg[Q=82,strip,interlace]", "2048.webp[Q=80,strip]", "2048.avif[Q=60,strip]"]
            )],
        }
    raise ValueError(task)


def timed(command, env):
    """Runs `command`; returns wall s, CPU s, peak RSS MB.

    Wall time and CPU time are read here to the microsecond (GNU time rounds
    both to 10 ms, 8 % of a 120 ms job). Peak RSS must come from GNU time:
    a child forked from this Python process starts with its resident pages.
    """
    with tempfile.NamedTemporaryFile("r") as report:
        start = time.perf_counter()
        process = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", report.name] + command,
                                   env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        stderr = process.stderr.read()  # before waiting: a full pipe would block the tool
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"{command[0]} failed: {stderr[-500:].decode(errors='replace')}")
        rss_kb = report.read().split()[-1]
    return wall, usage.ru_utime + usage.ru_stime, int(rss_kb) / 1024


def reference_2048(photo, path):
    """The common reference: full decode, upright, sRGB, Lanczos to 2048 wide."""
    image = Image.open(photo)
    icc = image.info.get("icc_profile")
    image = ImageOps.exif_transpose(image)
    if icc:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        image = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
    image = image.convert("RGB")
    width = min(2048, image.width)
    image.resize((width, round(image.height * width / image.width)), Image.LANCZOS).save(path)


def dssim(dssim_bin, reference, candidate, scratch):
    """DSSIM of `candidate` against `reference`, cropped to their common size."""
    a, b = Image.open(reference).convert("RGB"), Image.open(candidate).convert("RGB")
    size = (min(a.width, b.width), min(a.height, b.height))
    a.crop((0, 0) + size).save(scratch / "ref.png")
    b.crop((0, 0) + size).save(scratch / "cand.png")
    output = subprocess.run([dssim_bin, str(scratch / "ref.png"), str(scratch / "cand.png")],
                            capture_output=True, text=True, check=True).stdout
    return float(output.split()[0])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--photodesk", required=True)
    parser.add_argument("--dssim", required=True)
    parser.add_argument("--node-path", required=True)
    parser.add_argument("--corpus", default=str(HERE.parent.parent / "shared" / "corpus"))
    parser.add_argument("--photos", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tasks", default="a,b,c")
    parser.add_argument("--out", default=str(HERE / "results"))
    args = parser.parse_args()

    env = dict(os.environ, NODE_PATH=args.node_path)
    photos = largest_jpegs(Path(args.corpus), args.photos)
    results = {}  # task → tool → photo → list of (wall, cpu, rss, bytes, dssim)
    work = Path(tempfile.mkdtemp(prefix="photodesk-bench-"))
    for task in args.tasks.split(","):
        results[task] = {}
        for repeat in range(args.repeats):
            for photo in photos:
                reference = work / "reference.png"
                if task == "a" and repeat == 0:
                    reference_2048(photo, reference)
                for tool in commands(args, task, photo, work):
                    out = work / f"{task}-{tool}"
                    shutil.rmtree(out, ignore_errors=True)
                    out.mkdir()
                    command = commands(args, task, photo, out)[tool]
                    wall, cpu, rss = timed(command, env)
                    written = sum(f.stat().st_size for f in out.iterdir())
                    quality = None
                    if task == "a" and repeat == 0 and tool != "djpeg-floor":
                        big = next(f for f in out.iterdir() if "2048" in f.name)
                        quality = dssim(args.dssim, reference, big, work)
                    results[task].setdefault(tool, {}).setdefault(photo.name, []).append(
                        (wall, cpu, rss, written, quality))
                print(f"{task} run {repeat + 1}/{args.repeats} {photo.name}", file=sys.stderr, flush=True)

    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "raw.json").write_text(json.dumps(results, indent=1))
    summary = report(results, photos)
    (out_dir / "summary.md").write_text(summary + "\n")
    print(summary)


def report(results, photos):
    """Markdown tables: medians over photos of per-photo medians, with ratios to libvips."""
    lines = [f"{len(photos)} photos: {', '.join(p.name for p in photos)}", ""]
    for task, tools in results.items():
        summary = {}
        for tool, per_photo in tools.items():
            medians = [[statistics.median(run[i] for run in runs) for i in range(4)] for runs in per_photo.values()]
            qualities = [runs[0][4] for runs in per_photo.values() if runs[0][4] is not None]
            summary[tool] = [statistics.median(m[i] for m in medians) for i in range(4)]
            summary[tool].append(statistics.median(qualities) if qualities else None)
        base = summary.get("libvips")
        lines.append(f"### Task {task}")
        lines.append("| tool | wall ms | × libvips | CPU ms | × libvips | peak RSS MB | × libvips | KB out | × libvips | DSSIM 2048 |")
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for tool, (wall, cpu, rss, written, quality) in summary.items():
            ratio = lambda i, v: f"{v / base[i]:.2f}" if base and base[i] else "–"
            lines.append(
                f"| {tool} | {wall * 1000:.0f} | {ratio(0, wall)} | {cpu * 1000:.0f} | {ratio(1, cpu)} | "
                f"{rss:.0f} | {ratio(2, rss)} | {written / 1024:.0f} | {ratio(3, written)} | "
                f"{'' if quality is None else f'{quality:.5f}'} |")
        per_photo_wall = {tool: {photo: statistics.median(run[0] for run in runs)
                                 for photo, runs in per_photo.items()}
                          for tool, per_photo in tools.items()}
        for peer in ("libvips", "djpeg-floor"):
            if peer in per_photo_wall and "photodesk" in per_photo_wall:
                ratios = [wall / per_photo_wall[peer][photo]
                          for photo, wall in per_photo_wall["photodesk"].items()]
                lines.append(f"\nphotodesk / {peer} wall, ratio of the medians "
                             f"{summary['photodesk'][0] / summary[peer][0]:.3f}, median of the per-photo "
                             f"ratios {statistics.median(ratios):.3f} (range {min(ratios):.2f}–{max(ratios):.2f})")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
