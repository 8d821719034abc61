//! `valley reference`: the reference generated from the code, as Markdown on
//! stdout (committed as `docs/reference.md`).

use crate::error::{Result, ValleyError};

pub fn run() -> Result<()> {
    let text = crate::reference::render().map_err(ValleyError::Other)?;
    super::print_out(&text)
}
