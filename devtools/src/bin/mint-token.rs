//! Mints a local-stack HS256 token: `mint-token <sub> [scope ...]`. Dev only: it needs
//! JWT_HS256_SECRET, which exists only in `.local/env`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let sub = args.next().unwrap_or_else(|| "dev-user".to_string());
    let scopes: Vec<String> = args.collect();
    println!("{}", devtools::token::mint_from_env(&sub, &scopes, 3600)?);
    Ok(())
}
