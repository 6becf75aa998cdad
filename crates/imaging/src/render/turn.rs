//! EXIF orientation applied to pixels, whole images or bands of rows.
//!
//! Our own: `image`'s rotations go pixel by pixel through its generic
//! interface and took a tenth of a portrait photo's rendering time. Here
//! each pixel is one fixed-size move, in cache-sized tiles, and a band of
//! stored rows can be placed as soon as it is resized, so the JPEG decoder
//! turns a photo on its resizing thread while the next rows decode.

/// A photo stored `stored` (width, height) in EXIF orientation
/// `orientation` (2–8), and where its pixels go once upright.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Turn {
    pub orientation: u8,
    pub stored: (u32, u32),
}

impl Turn {
    /// The turn for EXIF orientation `o`, `None` if it moves no pixel.
    pub(crate) fn of(o: u8, stored: (u32, u32)) -> Option<Turn> {
        super::turns(o).then_some(Turn {
            orientation: o,
            stored,
        })
    }

    /// Width and height once upright: orientations 5–8 swap the sides.
    pub(crate) fn upright(&self) -> (u32, u32) {
        let (w, h) = self.stored;
        if self.orientation >= 5 {
            (h, w)
        } else {
            (w, h)
        }
    }

    /// Copies `band`, whole stored rows from `first_row` on, of pixels
    /// `channels` bytes each (3 or 4), to their places in `upright`.
    pub(crate) fn place(&self, band: &[u8], first_row: usize, channels: usize, upright: &mut [u8]) {
        if channels == 4 {
            self.place_pixels::<4>(band, first_row, upright);
        } else {
            self.place_pixels::<3>(band, first_row, upright);
        }
    }

    /// `place` for `N`-byte pixels: a constant, so each pixel is one move
    /// (copied as a slice of run-time length, every pixel was a call to
    /// `memcpy`, a tenth of a turned photo's time).
    fn place_pixels<const N: usize>(&self, band: &[u8], first_row: usize, upright: &mut [u8]) {
        const TILE: usize = 64;
        let (w, h) = (self.stored.0 as usize, self.stored.1 as usize);
        let upright_width = self.upright().0 as usize;
        let rows = band.len() / (w * N);
        // Where stored pixel (sx, sy) goes.
        let target = |sx: usize, sy: usize| match self.orientation {
            2 => (w - 1 - sx, sy),
            3 => (w - 1 - sx, h - 1 - sy),
            4 => (sx, h - 1 - sy),
            5 => (sy, sx),
            6 => (h - 1 - sy, sx),
            7 => (h - 1 - sy, w - 1 - sx),
            _ => (sy, w - 1 - sx),
        };
        for tile_row in (0..rows).step_by(TILE) {
            for tile_x in (0..w).step_by(TILE) {
                for row in tile_row..(tile_row + TILE).min(rows) {
                    for sx in tile_x..(tile_x + TILE).min(w) {
                        let (x, y) = target(sx, first_row + row);
                        let from = (row * w + sx) * N;
                        let pixel: [u8; N] = band[from..from + N].try_into().expect("N bytes");
                        let to = (y * upright_width + x) * N;
                        upright[to..to + N].copy_from_slice(&pixel);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Turn;

    #[test]
    fn bands_placed_one_by_one_equal_the_whole_image_turned() {
        let (w, h) = (7usize, 5usize);
        // Each pixel names its stored position.
        let stored: Vec<u8> = (0..w * h)
            .flat_map(|i| [(i % w) as u8, (i / w) as u8, 9])
            .collect();
        for o in 2..=8 {
            let turn = Turn::of(o, (w as u32, h as u32)).unwrap();
            let mut whole = vec![0; stored.len()];
            turn.place(&stored, 0, 3, &mut whole);
            let mut banded = vec![0; stored.len()];
            for (index, band) in stored.chunks(2 * w * 3).enumerate() {
                turn.place(band, index * 2, 3, &mut banded);
            }
            assert_eq!(whole, banded, "orientation {o}");
            // The stored top-left corner lands where EXIF says it goes.
            let (uw, uh) = turn.upright();
            let corner = |x: u32, y: u32| &whole[((y * uw + x) * 3) as usize..][..2];
            let expected = match o {
                2 => (uw - 1, 0),
                3 => (uw - 1, uh - 1),
                4 => (0, uh - 1),
                5 => (0, 0),
                6 => (uw - 1, 0),
                7 => (uw - 1, uh - 1),
                _ => (0, uh - 1),
            };
            assert_eq!(corner(expected.0, expected.1), [0, 0], "orientation {o}");
        }
        assert!(Turn::of(1, (w as u32, h as u32)).is_none());
        assert!(Turn::of(0, (w as u32, h as u32)).is_none());
    }
}
