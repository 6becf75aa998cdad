//! The demo: the seed story with 12 bundled photos, built into the binary so
//! `photodesk demo` works from any folder.

use super::serve::serve;
use photodesk_config::Config;
use photodesk_core::import::text;
use photodesk_core::{PhotoInput, Photodesk};

const STORY: &str = include_str!("../../../../examples/harbin/story.txt");

/// A bundled photo as (file name, bytes).
macro_rules! photo {
    ($name:literal) => {
        (
            $name,
            include_bytes!(concat!("../../../../examples/harbin/photos/", $name)).as_slice(),
        )
    };
}

const PHOTOS: [(&str, &[u8]); 12] = [
    photo!("01-wp-bridge.jpg"),
    photo!("02-wp-dragonfly.jpg"),
    photo!("03-wp-seeding.jpg"),
    photo!("04-wp-friends-portrait.jpg"),
    photo!("05-wp-picosdeeuropa.jpg"),
    photo!("06-wp-sunset.jpg"),
    photo!("07-wp-kleiber-20mp.jpg"),
    photo!("08-wp-free-bird.jpg"),
    photo!("09-wp-fig-plate.jpg"),
    photo!("10-cam-canon-eos1000d.jpg"),
    photo!("11-cam-nikon-d70.jpg"),
    photo!("12-wp-wine-portrait.jpg"),
];

pub async fn run(config: Config) -> anyhow::Result<()> {
    let app = Photodesk::open(&config).await?;
    let parsed = text::parse(STORY).map_err(|e| anyhow::anyhow!("bundled story: {e}"))?;
    let slug = photodesk_core::slug::slugify(&parsed.headline);
    if app.story(&slug).await?.is_none() {
        let photos = PHOTOS
            .iter()
            .map(|(name, bytes)| PhotoInput::Bytes {
                name: (*name).to_owned(),
                bytes: bytes::Bytes::from_static(bytes),
            })
            .collect();
        app.import_parsed_story(parsed, photos, true).await?;
        println!("Imported the demo story into {}", config.data_dir.display());
    }
    serve(app, &config, &format!("/stories/{slug}")).await
}
