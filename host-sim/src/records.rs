//! CSV records read with bounded memory, whatever the input: a file of any size streams through
//! a fixed buffer, a cell holds at most [`MAX_FIELD`] bytes and a record at most [`MAX_LINE`]
//! bytes of cells and separators, and a cell quoted in an error message is cut to an [`Excerpt`].
//! `train --data /dev/zero` therefore ends at once with an error, and a 100 MB line is rejected
//! after its first mebibyte, without being held in memory.
//!
//! The parsing is the `csv-core` crate's (RFC 4180: `"` quotes, `""` inside quotes, `\n` or
//! `\r\n` line ends, a UTF-8 byte order mark skipped, blank lines skipped); it writes each cell
//! into a buffer of ours, which is where the limits are kept. The `csv` crate on top of it has
//! no such limits: it grows a record until the input ends.

use crate::error::{Error, Result};
use crate::excerpt::Excerpt;
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// The most bytes a cell (a number or a column name) may hold, after unquoting.
pub const MAX_FIELD: usize = 1024;

/// The most bytes a record (a line, or several when a quoted cell holds line ends) may hold:
/// its cells and the commas between them.
pub const MAX_LINE: usize = 1 << 20;

pub use crate::excerpt::EXCERPT;

/// A record that was read: where it starts and how many cells it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    /// 1-based line number of its first byte.
    pub line: u64,
    /// Its cells.
    pub cells: usize,
}

/// Reads CSV records from `input` one at a time; see the [module docs](self).
#[derive(Debug)]
pub struct Records<R> {
    path: PathBuf,
    input: R,
    parser: csv_core::Reader,
    /// Where the parser writes a cell.
    cell: Box<[u8]>,
}

impl<R: BufRead> Records<R> {
    /// Records of `input`; `path` names it in messages.
    pub fn new(path: &Path, input: R) -> Self {
        Self {
            path: path.to_owned(),
            input,
            parser: csv_core::Reader::new(),
            // One byte more than a cell may hold: the parser reports a full buffer before it
            // looks at the byte that would end the cell.
            cell: vec![0; MAX_FIELD + 1].into_boxed_slice(),
        }
    }

    /// Reads the next record, handing each cell to `each` with its 0-based column; `None` at
    /// the end of the input. An error of `each` stops the record there.
    ///
    /// Errors: [`Error::Read`] if the input fails, [`Error::FieldTooLong`] for a cell of more
    /// than [`MAX_FIELD`] bytes, [`Error::LineTooLong`] for a record of more than [`MAX_LINE`].
    ///
    /// ```
    /// use tinytrain_host_sim::records::{Record, Records};
    /// let mut records = Records::new("d.csv".as_ref(), &b"x,y\n\n\"1\",2\n"[..]);
    /// let mut cells = Vec::new();
    /// let header = records.next(|_, cell| Ok(cells.push(cell.to_vec())))?;
    /// assert_eq!(header, Some(Record { line: 1, cells: 2 }));
    /// assert_eq!(records.next(|_, _| Ok(()))?, Some(Record { line: 3, cells: 2 }));
    /// assert_eq!(records.next(|_, _| Ok(()))?, None);
    /// assert_eq!(cells, [b"x", b"y"]);
    /// # Ok::<(), tinytrain_host_sim::Error>(())
    /// ```
    pub fn next(
        &mut self,
        mut each: impl FnMut(usize, &[u8]) -> Result<()>,
    ) -> Result<Option<Record>> {
        if !self.skip_blank_lines()? {
            return Ok(None);
        }
        let line = self.parser.line();
        let (mut column, mut filled, mut size) = (0, 0, 0usize);
        loop {
            let input = self.input.fill_buf().map_err(|source| Error::Read {
                path: self.path.clone(),
                source,
            })?;
            let out = self.cell.get_mut(filled..).unwrap_or_default();
            let (result, read, wrote) = self.parser.read_field(input, out);
            self.input.consume(read);
            filled += wrote;
            match result {
                csv_core::ReadFieldResult::InputEmpty => {}
                csv_core::ReadFieldResult::OutputFull => {
                    return Err(Error::FieldTooLong {
                        path: self.path.clone(),
                        line,
                        column: column + 1,
                        limit: MAX_FIELD,
                        start: Excerpt::new(&self.cell),
                    });
                }
                csv_core::ReadFieldResult::Field { record_end } => {
                    size = size.saturating_add(filled + 1);
                    if size > MAX_LINE + 1 {
                        return Err(Error::LineTooLong {
                            path: self.path.clone(),
                            line,
                            limit: MAX_LINE,
                            cells: column,
                        });
                    }
                    each(column, self.cell.get(..filled).unwrap_or_default())?;
                    column += 1;
                    filled = 0;
                    if record_end {
                        return Ok(Some(Record {
                            line,
                            cells: column,
                        }));
                    }
                }
                // Only after an empty input at the start of a record, which
                // `skip_blank_lines` has ruled out.
                csv_core::ReadFieldResult::End => {
                    return Ok(Some(Record {
                        line,
                        cells: column,
                    }))
                }
            }
        }
    }

    /// Consumes the line ends before a record, counting the lines; false at the end of the
    /// input. (The parser would skip them too, but then the record's first line would be
    /// unknown.)
    fn skip_blank_lines(&mut self) -> Result<bool> {
        loop {
            let input = self.input.fill_buf().map_err(|source| Error::Read {
                path: self.path.clone(),
                source,
            })?;
            if input.is_empty() {
                return Ok(false);
            }
            let len = input.len();
            let blank = input
                .iter()
                .take_while(|b| matches!(b, b'\n' | b'\r'))
                .count();
            let lines = input.iter().take(blank).filter(|&&b| b == b'\n').count();
            self.input.consume(blank);
            let line = self.parser.line();
            self.parser.set_line(line.saturating_add(lines as u64));
            if blank < len {
                return Ok(true);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every record's line and cells, or the first error.
    fn all(text: &[u8]) -> Result<Vec<(Record, Vec<String>)>> {
        let mut records = Records::new(Path::new("t.csv"), text);
        let mut all = Vec::new();
        loop {
            let mut cells = Vec::new();
            let Some(record) = records.next(|_, cell| {
                cells.push(String::from_utf8_lossy(cell).into_owned());
                Ok(())
            })?
            else {
                return Ok(all);
            };
            all.push((record, cells));
        }
    }

    fn lines(text: &[u8]) -> Vec<u64> {
        all(text).unwrap().iter().map(|(r, _)| r.line).collect()
    }

    #[test]
    fn lines_are_counted_across_blank_lines_crlf_and_quoted_line_ends() {
        assert_eq!(lines(b"a,b\n\n\nc,d\n\"x\ny\",z\nlast"), [1, 4, 5, 7]);
        assert_eq!(lines(b"\r\n\r\na\r\nb\r\n\r\nc"), [3, 4, 6]);
        assert_eq!(lines(b"\xef\xbb\xbfh\n1\n"), [1, 2]);
        let records = all(b"\xef\xbb\xbf\"a,\"\"b\"\"\",c\n").unwrap();
        assert_eq!(records[0].1, ["a,\"b\"", "c"]);
        assert!(all(b"").unwrap().is_empty() && all(b"\n\r\n").unwrap().is_empty());
    }

    #[test]
    fn a_cell_may_hold_max_field_bytes_and_no_more() {
        let text = |n: usize| format!("{},1\n", "9".repeat(n)).into_bytes();
        let records = all(&text(MAX_FIELD)).unwrap();
        assert_eq!(records[0].1[0].len(), MAX_FIELD);
        let e = all(&text(MAX_FIELD + 1)).unwrap_err();
        assert!(
            matches!(
                e,
                Error::FieldTooLong {
                    line: 1,
                    column: 1,
                    ..
                }
            ),
            "{e}"
        );
        let quoted = format!("x,\"{}\"", "\n".repeat(MAX_FIELD + 1));
        let e = all(quoted.as_bytes()).unwrap_err();
        assert!(
            matches!(
                e,
                Error::FieldTooLong {
                    line: 1,
                    column: 2,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn a_record_may_hold_max_line_bytes_and_no_more() {
        // Cells of 1023 bytes and their commas: 1024 bytes each.
        let cell = "5".repeat(1023);
        let line = |cells: usize, last: usize| {
            let mut all = vec![cell.as_str(); cells];
            let tail = "5".repeat(last);
            all.push(&tail);
            all.join(",") + "\n"
        };
        let exact = line(MAX_LINE / 1024 - 1, 1024);
        assert_eq!(exact.len(), MAX_LINE + 1);
        assert_eq!(all(exact.as_bytes()).unwrap()[0].0.cells, MAX_LINE / 1024);
        let over = exact.replacen('5', "55", 1);
        let e = all(over.as_bytes()).unwrap_err();
        assert!(
            matches!(e, Error::LineTooLong { line: 1, cells, .. } if cells == MAX_LINE / 1024 - 1),
            "{e}"
        );
    }

    #[test]
    fn an_error_of_the_callback_stops_the_record() {
        let mut records = Records::new(Path::new("t.csv"), &b"a,b,c\n"[..]);
        let mut seen = 0;
        let e = records.next(|column, _| {
            seen += 1;
            if column == 1 {
                Err(Error::NothingToSweep)
            } else {
                Ok(())
            }
        });
        assert!(matches!(e, Err(Error::NothingToSweep)) && seen == 2);
    }
}
