use crate::cli::Import;
use anyhow::Context;
use photodesk_config::Config;
use photodesk_core::import::text::MAX_TEXT_BYTES;
use photodesk_core::Photodesk;
use std::io::Read;

pub async fn run(config: Config, args: &Import) -> anyhow::Result<()> {
    // One byte past the limit is enough for the importer to refuse the
    // text, and an endless input (`/dev/zero`) ends there. A pipe is read:
    // `photodesk import <(…)` is one.
    let mut text = Vec::new();
    std::fs::File::open(&args.story)
        .and_then(|file| file.take(MAX_TEXT_BYTES as u64 + 1).read_to_end(&mut text))
        .with_context(|| format!("cannot read story {}", args.story.display()))?;
    let app = Photodesk::open(&config).await?;
    let story = app
        .import_story(&text, &args.photos, args.publish)
        .await
        .with_context(|| format!("{} not imported", args.story.display()))?;
    super::complete_renditions(&app).await?;
    println!(
        "imported {:?} ({} slides, {}) as /stories/{}",
        story.story.headline,
        story.slides.len(),
        story.story.status,
        story.story.slug
    );
    Ok(())
}
