//! CSV files of numbers with a header row, and the choice of the target column.

use crate::error::{Error, Result};
use crate::records::{Excerpt, Records};
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// Column names for a message: the first [`LISTED`], each cut to an [`Excerpt`] if long, and
/// how many more there are.
///
/// ```
/// use tinytrain_host_sim::table::listed;
/// assert_eq!(listed(&["x".into(), "y".into()]), "x, y");
/// let many: Vec<String> = (0..100).map(|k| format!("c{k}")).collect();
/// assert_eq!(listed(&many), "c0, c1, c2, c3, c4, c5, c6, c7, c8, c9 and 90 more");
/// ```
pub fn listed(names: &[String]) -> String {
    let shown: Vec<String> = names
        .iter()
        .take(LISTED)
        .map(|name| {
            let excerpt = Excerpt::new(name.as_bytes());
            if excerpt.cut {
                excerpt.text + "…"
            } else {
                excerpt.text
            }
        })
        .collect();
    let more = names.len().saturating_sub(LISTED);
    if more == 0 {
        shown.join(", ")
    } else {
        format!("{} and {more} more", shown.join(", "))
    }
}

/// The most column names a message lists.
pub const LISTED: usize = 10;

/// A cell as a finite number (surrounding whitespace ignored).
fn number(cell: &[u8]) -> Option<f32> {
    let v: f32 = std::str::from_utf8(cell).ok()?.trim().parse().ok()?;
    v.is_finite().then_some(v)
}

/// A CSV file of finite numbers: a header and rows of equally many cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Where it was read from (used in messages).
    pub path: PathBuf,
    /// The column names.
    pub header: Vec<String>,
    /// The cells, row after row.
    pub values: Vec<f32>,
}

impl Table {
    /// Reads a CSV file (`-`: standard input), streaming it with the limits of [`crate::records`] (so that a file of
    /// any size or shape is read in bounded memory besides its numbers); every error names the
    /// file and, for a bad cell or row, its line and column.
    pub fn read(path: &Path) -> Result<Self> {
        if crate::cli::is_standard_stream(path) {
            let input = std::io::stdin().lock();
            return Self::from_reader(Path::new("standard input"), input);
        }
        let file = std::fs::File::open(path).map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_reader(path, std::io::BufReader::with_capacity(1 << 16, file))
    }

    /// Parses CSV text; `path` only names it in messages.
    ///
    /// ```
    /// use tinytrain_host_sim::table::Table;
    /// let t = Table::parse("d.csv".as_ref(), b"x,y\n1,2\n3,4\n")?;
    /// assert_eq!((t.header.len(), t.rows()), (2, 2));
    /// assert_eq!(t.values, [1.0, 2.0, 3.0, 4.0]);
    ///
    /// let e = Table::parse("d.csv".as_ref(), b"x,y\n1,2\n3,four\n").unwrap_err();
    /// assert_eq!(e.to_string(), "d.csv:3:2: \"four\" in column `y` is not a finite number");
    /// # Ok::<(), tinytrain_host_sim::Error>(())
    /// ```
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Self> {
        Self::from_reader(path, bytes)
    }

    /// Reads CSV from `input`; `path` names it in messages.
    pub fn from_reader(path: &Path, input: impl BufRead) -> Result<Self> {
        let mut records = Records::new(path, input);
        let mut header = Vec::new();
        let mut bad_name = None;
        let first = records.next(|column, cell| {
            match std::str::from_utf8(cell) {
                Ok(name) => header.push(name.trim().to_owned()),
                Err(_) => bad_name = bad_name.or(Some(column + 1)),
            }
            Ok(())
        })?;
        let path = path.to_owned();
        let Some(first) = first else {
            return Err(Error::EmptyFile { path });
        };
        if let Some(column) = bad_name {
            return Err(Error::Csv {
                path,
                line: first.line,
                message: format!("column {column} of the header is not UTF-8 text"),
            });
        }
        if header == [""] {
            return Err(Error::EmptyFile { path });
        }
        unique(&path, first.line, &header)?;
        let n = header.len();
        let mut values = Vec::new();
        loop {
            let mut bad = None;
            let row = records.next(|column, cell| {
                if column < n {
                    match number(cell) {
                        Some(v) => values.push(v),
                        None if bad.is_none() => bad = Some((column, Excerpt::new(cell))),
                        None => {}
                    }
                }
                Ok(())
            });
            let row = match row {
                Ok(Some(row)) => row,
                Ok(None) => break,
                Err(Error::LineTooLong { line, cells, .. }) if cells > n => {
                    return Err(Error::RaggedRow {
                        path,
                        line,
                        expected: n,
                        found: cells,
                        more: true,
                    })
                }
                Err(e) => return Err(e),
            };
            if row.cells != n {
                return Err(Error::RaggedRow {
                    path,
                    line: row.line,
                    expected: n,
                    found: row.cells,
                    more: false,
                });
            }
            if let Some((k, cell)) = bad {
                return Err(Error::NotANumber {
                    path,
                    line: row.line,
                    column: k + 1,
                    name: header.get(k).cloned().unwrap_or_default(),
                    cell,
                });
            }
        }
        if values.is_empty() {
            return Err(Error::NoRows { path });
        }
        Ok(Self {
            path,
            header,
            values,
        })
    }

    /// Number of data rows.
    pub fn rows(&self) -> usize {
        self.values.len() / self.header.len().max(1)
    }

    /// The index of the column `target` names: a header name, or else a 1-based column number.
    ///
    /// ```
    /// use tinytrain_host_sim::table::Table;
    /// let t = Table::parse("d.csv".as_ref(), b"a,b,c\n1,2,3\n")?;
    /// assert_eq!(t.column("b")?, 1);
    /// assert_eq!(t.column("1")?, 0);
    /// assert!(t.column("d").is_err() && t.column("4").is_err());
    /// # Ok::<(), tinytrain_host_sim::Error>(())
    /// ```
    pub fn column(&self, target: &str) -> Result<usize> {
        let by_name = self.header.iter().position(|h| h == target);
        let by_number = || {
            target
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=self.header.len()).contains(n))
                .map(|n| n - 1)
        };
        by_name
            .or_else(by_number)
            .ok_or_else(|| Error::UnknownColumn {
                path: self.path.clone(),
                target: target.to_owned(),
                columns: listed(&self.header),
            })
    }

    /// Splits the table into inputs (every other column, in order) and the target column
    /// (the last one unless `target` says otherwise).
    pub fn features_and_target(&self, target: Option<&str>) -> Result<Samples> {
        let n = self.header.len();
        if n < 2 {
            return Err(Error::Columns {
                path: self.path.clone(),
                problem: format!(
                    "only one column ({}); a feature column and a target column are needed",
                    listed(&self.header)
                ),
            });
        }
        let t = match target {
            Some(name) => self.column(name)?,
            None => n - 1,
        };
        let mut inputs = Vec::with_capacity(self.rows() * (n - 1));
        let mut targets = Vec::with_capacity(self.rows());
        for row in self.values.chunks_exact(n) {
            for (k, v) in row.iter().enumerate() {
                if k == t {
                    targets.push(*v);
                } else {
                    inputs.push(*v);
                }
            }
        }
        let mut input_names = self.header.clone();
        let target_name = input_names.remove(t);
        Ok(Samples {
            path: self.path.clone(),
            input_names,
            target_name: Some(target_name),
            inputs,
            targets,
        })
    }
}

impl Table {
    /// The columns a model with `n_in` inputs reads: all of them as inputs, or — when there is
    /// one more column — the inputs and the target (the last column unless `target` names
    /// another).
    ///
    /// ```
    /// use tinytrain_host_sim::table::Table;
    /// let t = Table::parse("d.csv".as_ref(), b"a,b,y\n1,2,3\n")?;
    /// assert!(t.for_model(3, None)?.targets.is_empty());
    /// assert_eq!(t.for_model(2, None)?.targets, [3.0]);
    /// assert_eq!(t.for_model(2, Some("a"))?.input_names, ["b", "y"]);
    /// assert!(t.for_model(1, None).is_err());
    /// # Ok::<(), tinytrain_host_sim::Error>(())
    /// ```
    pub fn for_model(&self, n_in: usize, target: Option<&str>) -> Result<Samples> {
        let n = self.header.len();
        if n == n_in && target.is_none() {
            return Ok(Samples {
                path: self.path.clone(),
                input_names: self.header.clone(),
                target_name: None,
                inputs: self.values.clone(),
                targets: Vec::new(),
            });
        }
        if n == n_in + 1 {
            return self.features_and_target(target);
        }
        let s = if n_in == 1 { "" } else { "s" };
        Err(Error::Columns {
            path: self.path.clone(),
            problem: format!(
                "{n} columns ({}), but the model takes {n_in} input{s}: give {n_in} input \
                 columns, optionally followed by the target column",
                listed(&self.header)
            ),
        })
    }
}

/// Fails on a header that names two columns alike: a column must be found by its name, in
/// `train --target` and in `predict`, without a guess.
fn unique(path: &Path, line: u64, header: &[String]) -> Result<()> {
    for (second, name) in header.iter().enumerate() {
        if let Some(first) = header
            .get(..second)
            .and_then(|h| h.iter().position(|n| n == name))
        {
            return Err(Error::DuplicateColumn {
                path: path.to_owned(),
                line,
                name: name.clone(),
                first: first + 1,
                second: second + 1,
            });
        }
    }
    Ok(())
}

/// Samples as the core wants them: inputs and targets row by row, with their names.
#[derive(Debug, Clone, PartialEq)]
pub struct Samples {
    /// The file they came from.
    pub path: PathBuf,
    /// Names of the input columns.
    pub input_names: Vec<String>,
    /// Name of the target column, if the file has one.
    pub target_name: Option<String>,
    /// Inputs, `n_in()` per sample.
    pub inputs: Vec<f32>,
    /// Targets, one per sample (empty when there is no target column).
    pub targets: Vec<f32>,
}

impl Samples {
    /// Inputs per sample.
    pub fn n_in(&self) -> usize {
        self.input_names.len()
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.inputs.len() / self.n_in().max(1)
    }

    /// True when there is no sample (never, for samples from a [`Table`]).
    pub fn is_empty(&self) -> bool {
        self.inputs.is_empty()
    }

    /// The data set the core trains on.
    pub fn dataset(&self) -> Result<tinytrain_core::Dataset<'_>> {
        tinytrain_core::Dataset::new(&self.inputs, &self.targets, self.n_in(), 1)
            .map_err(Error::core(self.path.display().to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Table> {
        Table::parse(Path::new("t.csv"), text.as_bytes())
    }

    #[test]
    fn bad_files_name_the_place() {
        let msg = |text: &str| parse(text).unwrap_err().to_string();
        assert_eq!(
            msg(""),
            "t.csv: the file is empty; expected a header row and data rows"
        );
        assert_eq!(msg("x,y\n"), "t.csv: no data rows after the header");
        assert_eq!(
            msg("x,y\n1,2\n3\n"),
            "t.csv:3: 1 cells, but the header has 2"
        );
        assert_eq!(
            msg("x,y\n1,2\n3,nan\n"),
            "t.csv:3:2: \"nan\" in column `y` is not a finite number"
        );
        assert_eq!(
            msg("x,y,x\n1,2,3\n"),
            "t.csv:1: column `x` is named twice in the header (columns 1 and 3): every column \
             needs a name of its own"
        );
    }

    #[test]
    fn target_column_is_moved_out() {
        let t = parse("a,b,c\n1,2,3\n4,5,6\n").unwrap();
        let s = t.features_and_target(Some("a")).unwrap();
        assert_eq!(s.input_names, ["b", "c"]);
        assert_eq!(
            (s.inputs, s.targets),
            (vec![2.0, 3.0, 5.0, 6.0], vec![1.0, 4.0])
        );
        let s = t.features_and_target(None).unwrap();
        assert_eq!(s.target_name.as_deref(), Some("c"));
        assert!(t.features_and_target(Some("z")).is_err());
    }
}
