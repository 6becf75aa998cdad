"""One benchmark job with Pillow: python3 pillow-job.py TASK INPUT OUTDIR.

Pillow with `draft` (libjpeg DCT scaling), EXIF orientation applied,
Lanczos resampling; the 400-px thumbnail is made from the same decode."""
import os
import sys

from PIL import Image, ImageOps

task, source, out = sys.argv[1:4]
stem = os.path.splitext(os.path.basename(source))[0]
image = Image.open(source)
width, height = image.size
orientation = image.getexif().get(0x0112, 1)
upright_width = height if orientation in (5, 6, 7, 8) else width
scale = min(1.0, 2048 / upright_width)
image.draft("RGB", (int(width * scale), int(height * scale)))
image = ImageOps.exif_transpose(image).convert("RGB")


def resized(target):
    target = min(target, image.width)
    return image.resize((target, round(image.height * target / image.width)), Image.LANCZOS)


if task == "a":
    big = resized(2048)
    big.save(f"{out}/{stem}-2048.jpg", quality=82, progressive=True, optimize=True)
    small = big.resize((400, round(big.height * 400 / big.width)), Image.LANCZOS)
    small.save(f"{out}/{stem}-400.jpg", quality=82, progressive=True, optimize=True)
elif task == "b":
    resized(2048).save(f"{out}/{stem}-2048.webp", quality=80)
