//! What every Excel export shares: the row cap, the refusal past it, the ledger's title and
//! header formats, and the internal error a failed write becomes.

use rust_xlsxwriter::{Format, FormatAlign, XlsxError};

use crate::AppError;

/// More rows than this are refused: narrow the filter instead.
pub const MAX_EXPORT_ROWS: i64 = 100_000;

/// Refuses an export that found more than [`MAX_EXPORT_ROWS`] rows (ask the store for one
/// more than the cap). `field` is the filter to narrow, `advice` says how, in Chinese.
pub fn check_rows(found: usize, field: &str, advice: &str) -> Result<(), AppError> {
    if found as i64 > MAX_EXPORT_ROWS {
        return Err(AppError::invalid(
            "export_too_large",
            field,
            format!("导出结果超过{MAX_EXPORT_ROWS}条，{advice}"),
        ));
    }
    Ok(())
}

/// A ledger's title line: bold, 14 pt.
pub fn title_format() -> Format {
    Format::new().set_bold().set_font_size(14)
}

/// A ledger's column headers: bold, centred, on the light blue of the printed forms.
pub fn header_format() -> Format {
    Format::new()
        .set_bold()
        .set_align(FormatAlign::Center)
        .set_background_color("#DDEBF7")
}

/// A failed workbook write is an internal fault, not the user's.
pub fn xerr(e: XlsxError) -> AppError {
    AppError::Internal(format!("xlsx: {e}"))
}
