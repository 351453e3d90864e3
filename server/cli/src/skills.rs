//! `jingu skills list|verify [PATH]|sign PATH --key KEYFILE|keygen`.

use std::path::PathBuf;

use anyhow::{Context, bail};

use super::{CmdResult, print_json};
use jingu_skills::{self as skills, SecretKey, SkillRoots, SkillsPolicy, Trust};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: SkillsCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum SkillsCommand {
    /// List discovered skills with their trust state and source.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Check a bundle's files, signature and signer (all discovered bundles without PATH).
    Verify {
        path: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Sign the bundle at PATH, writing PATH/jingu.sig.
    Sign {
        path: PathBuf,
        #[arg(long)]
        key: PathBuf,
    },
    /// Create an ed25519 key pair: the private key goes to a new 0600 file, the public key to stdout.
    Keygen {
        #[arg(long, default_value = "jingu-skills.key")]
        out: PathBuf,
    },
}

pub(crate) fn run(args: Args) -> CmdResult {
    match args.command {
        SkillsCommand::List { json } => list(json),
        SkillsCommand::Verify { path, json } => verify(path, json),
        SkillsCommand::Sign { path, key } => {
            let key = SecretKey::read(&key)?;
            let sig = skills::sign_bundle(&path, &key)?;
            println!(
                "signed {} ({} files) with {}",
                path.display(),
                sig.files.len(),
                sig.key
            );
            Ok(())
        }
        SkillsCommand::Keygen { out } => {
            let key = SecretKey::generate()?;
            key.write_new(&out).with_context(|| {
                format!("refusing to overwrite or cannot create {}", out.display())
            })?;
            eprintln!(
                "private key written to {} (mode 0600); keep it out of any repository",
                out.display()
            );
            println!("{}", key.public());
            Ok(())
        }
    }
}

fn context() -> anyhow::Result<(SkillRoots, SkillsPolicy)> {
    let workspace = std::env::current_dir().context("current directory")?;
    let roots = SkillRoots::standard(Some(&workspace));
    let mut policy = SkillsPolicy::load_default()?;
    if let Some(key) = roots.project_key()? {
        policy = policy.with_install_key(key);
    }
    Ok((roots, policy))
}

fn list(json: bool) -> CmdResult {
    let (roots, policy) = context()?;
    let found = skills::discover(&roots, &policy);
    if json {
        return print_json(&serde_json::json!({
            "skills": found.skills.iter().map(|s| serde_json::json!({
                "name": s.name, "description": s.description, "version": s.version,
                "trust": s.trust, "source": s.source, "dir": s.dir,
            })).collect::<Vec<_>>(),
            "refused": found.refused,
        }));
    }
    for s in &found.skills {
        let trust = match &s.trust {
            Trust::Verified { .. } => "verified",
            Trust::Restricted { .. } => "restricted",
        };
        println!(
            "{:<24} {:<10} {:<9} {}",
            s.name,
            trust,
            s.source.as_str(),
            s.description
        );
    }
    for r in &found.refused {
        eprintln!("refused {}: {}", r.dir.display(), r.reason);
    }
    Ok(())
}

fn verify(path: Option<PathBuf>, json: bool) -> CmdResult {
    let (roots, policy) = context()?;
    let dirs: Vec<PathBuf> = match path {
        Some(p) => vec![p],
        None => {
            let found = skills::discover(&roots, &SkillsPolicy::default());
            found
                .skills
                .into_iter()
                .map(|s| s.dir)
                .chain(found.refused.into_iter().map(|r| r.dir))
                .collect()
        }
    };
    let results: Vec<(PathBuf, Result<skills::Verified, skills::SkillError>)> = dirs
        .into_iter()
        .map(|d| {
            let r = skills::verify_bundle(&d, &policy.trusted_keys);
            (d, r)
        })
        .collect();
    let failures = results.iter().filter(|(_, r)| r.is_err()).count();
    if json {
        print_json(&results.iter().map(|(d, r)| match r {
            Ok(v) => serde_json::json!({"dir": d, "ok": true, "key": v.key.to_string(), "manifest_sha256": v.manifest_sha256}),
            Err(e) => serde_json::json!({"dir": d, "ok": false, "reason": e.to_string()}),
        }).collect::<Vec<_>>())?;
    } else {
        for (d, r) in &results {
            match r {
                Ok(v) => println!("ok       {} (signed by {})", d.display(), v.key),
                Err(e) => println!("REFUSED  {e}"),
            }
        }
    }
    if failures > 0 {
        bail!(
            "{failures} of {} bundle(s) failed verification",
            results.len()
        );
    }
    Ok(())
}
