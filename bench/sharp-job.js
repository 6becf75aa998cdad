// One benchmark job with sharp: node sharp-job.js TASK INPUT OUTDIR
// Tasks mirror `photodesk render`: a (2048 JPEG q82 + 400 JPEG), b (2048 WebP q80).
const sharp = require('sharp');
const path = require('path');
const [task, input, out] = process.argv.slice(2);
const stem = path.basename(input, path.extname(input));
const resized = (width) => sharp(input).rotate().resize({ width, withoutEnlargement: true });
const jobs = {
  a: () => Promise.all([
    resized(2048).jpeg({ quality: 82, progressive: true }).toFile(`${out}/${stem}-2048.jpg`),
    resized(400).jpeg({ quality: 82, progressive: true }).toFile(`${out}/${stem}-400.jpg`),
  ]),
  b: () => resized(2048).webp({ quality: 80 }).toFile(`${out}/${stem}-2048.webp`),
};
jobs[task]().catch((err) => { console.error(err); process.exit(1); });
