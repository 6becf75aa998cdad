//! `photodesk user …` and `photodesk token …`.

use crate::cli::{TokenCommand, UserCommand};
use anyhow::{bail, Context};
use photodesk_config::Config;
use photodesk_core::Photodesk;
use std::io::IsTerminal;

/// The password from `PHOTODESK_PASSWORD`, else asked twice in a terminal.
fn password(name: &str) -> anyhow::Result<String> {
    if let Ok(password) = std::env::var("PHOTODESK_PASSWORD") {
        return Ok(password);
    }
    if !std::io::stdin().is_terminal() {
        bail!("no password: set PHOTODESK_PASSWORD or run in a terminal to be asked");
    }
    let first = rpassword::prompt_password(format!("Password for {name}: "))
        .context("cannot read the password")?;
    let again = rpassword::prompt_password("Again: ").context("cannot read the password")?;
    if first != again {
        bail!("the passwords differ");
    }
    Ok(first)
}

pub async fn user(config: Config, command: &UserCommand) -> anyhow::Result<()> {
    let app = Photodesk::open(&config).await?;
    match command {
        UserCommand::Add { name, role } => {
            let password = password(name)?;
            let user = app.add_user(name, *role, &password).await?;
            println!("Added {} ({})", user.name, user.role);
        }
        UserCommand::List => {
            for user in app.users().await? {
                let state = if user.disabled { "disabled" } else { "active" };
                println!("{}\t{}\t{state}", user.name, user.role);
            }
        }
        UserCommand::SetPassword { name } => {
            let password = password(name)?;
            app.set_password(name, &password).await?;
            println!("Password set for {name}; their sessions were ended");
        }
        UserCommand::Disable { name } => {
            app.set_user_disabled(name, true).await?;
            println!("Disabled {name}");
        }
        UserCommand::Enable { name } => {
            app.set_user_disabled(name, false).await?;
            println!("Enabled {name}");
        }
    }
    Ok(())
}

pub async fn token(config: Config, command: &TokenCommand) -> anyhow::Result<()> {
    let app = Photodesk::open(&config).await?;
    match command {
        TokenCommand::Create { name, user } => {
            let (token, secret) = app.create_api_token(user, name).await?;
            // Scripts take the last word; people read the rest.
            println!(
                "Token {} ({:?}) for {}; it is shown only now: {secret}",
                token.id, token.name, token.user
            );
        }
        TokenCommand::List => {
            for token in app.api_tokens().await? {
                let state = token
                    .revoked_at
                    .map_or_else(|| "active".to_owned(), |at| format!("revoked {at}"));
                println!("{}\t{}\t{}\t{state}", token.id, token.user, token.name);
            }
        }
        TokenCommand::Revoke { id } => {
            app.revoke_api_token(*id).await?;
            println!("Revoked token {id}");
        }
    }
    Ok(())
}
