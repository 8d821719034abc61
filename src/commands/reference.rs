//! `valley reference`: the reference generated from the code, as Markdown on
//! stdout (committed as `docs/reference.md`).

use crate::error::{Result, ValleyError};
use std::io::Write;

pub fn run() -> Result<()> {
    let text = crate::reference::render().map_err(ValleyError::Other)?;
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(())
}
