use crate::cli::Import;
use anyhow::Context;
use photodesk_config::Config;
use photodesk_core::Photodesk;

pub async fn run(config: Config, args: &Import) -> anyhow::Result<()> {
    let text = std::fs::read(&args.story)
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
