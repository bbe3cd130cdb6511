//! The three parts of a split — training, validation, test — as row indices: drawn with the
//! seed, or read from a JSON file (`train --split FILE.json`) so that another tool can be
//! compared on the very same rows.
//!
//! The file holds `{"train": [...], "val": [...], "test": [...]}`: 0-based data rows (the header
//! is not a row), the field names of the report's `split`, so a report can be read back as a
//! split too. `test` may be left out (no test set).

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;
use tinytrain_core::Split;

/// Sample indices (0-based data rows) of the three parts of a split.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parts {
    /// Training rows, in the order training starts from.
    pub train: Vec<u32>,
    /// Validation rows.
    pub val: Vec<u32>,
    /// Test rows (empty without a test set).
    #[serde(default)]
    pub test: Vec<u32>,
}

/// A report, whose `split` holds the parts.
#[derive(Deserialize)]
struct Report {
    split: Parts,
}

/// Either shape of file.
#[derive(Deserialize)]
#[serde(untagged)]
enum File {
    Parts(Parts),
    Report(Report),
}

impl Parts {
    /// Every row of the split, training then validation then test: the order of the data set
    /// a trainer walks ([`Parts::split`]).
    pub fn rows(&self) -> Vec<u32> {
        self.train
            .iter()
            .chain(&self.val)
            .chain(&self.test)
            .copied()
            .collect()
    }

    /// The split of a data set whose rows are [`Parts::rows`], in that order, over `order`
    /// (those rows' indices in the data set the trainer walks).
    pub fn split<'o>(&self, order: &'o mut [u32]) -> Result<Split<'o>> {
        Split::from_order(order, self.train.len(), self.val.len()).map_err(Error::core("the split"))
    }

    /// The split the core draws from `seed` (see [`Split::new`]) over `rows` samples.
    pub fn draw(rows: usize, val: f32, test: f32, seed: u64) -> Result<Self> {
        let mut order = vec![0u32; rows];
        let split = Split::new(&mut order, val, test, seed).map_err(Error::core(format!(
            "--val {val} --test {test} on {rows} samples"
        )))?;
        Ok(Self {
            train: split.train().to_vec(),
            val: split.validation().to_vec(),
            test: split.test().to_vec(),
        })
    }

    /// Reads a split file for a data file of `rows` rows and checks it: every index below
    /// `rows`, no row twice, a training and a validation part that are not empty, and a test
    /// part that is absent or not empty.
    pub fn read(path: &Path, rows: usize) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?;
        let bad = |problem: String| Error::SplitFile {
            path: path.to_owned(),
            problem,
        };
        let file: File = serde_json::from_slice(&bytes).map_err(|e| {
            bad(format!(
                "{e}; expected {{\"train\": [rows], \"val\": [rows], \"test\": [rows]}} with \
                 0-based data rows, or a report of `tinytrain train --report`"
            ))
        })?;
        let parts = match file {
            File::Parts(p) | File::Report(Report { split: p }) => p,
        };
        parts.check(rows).map_err(bad)?;
        Ok(parts)
    }

    /// The checks of [`Parts::read`], as a sentence naming the first problem.
    ///
    /// ```
    /// use tinytrain_host_sim::parts::Parts;
    /// let p = |train: &[u32], val: &[u32], test: &[u32]| Parts {
    ///     train: train.to_vec(), val: val.to_vec(), test: test.to_vec(),
    /// };
    /// assert!(p(&[0, 1], &[2], &[3]).check(4).is_ok());
    /// assert!(p(&[0, 1], &[2], &[]).check(4).is_ok());
    /// assert_eq!(
    ///     p(&[0, 4], &[2], &[]).check(4).unwrap_err(),
    ///     "train: row 4 is out of range: the data has 4 rows (0 to 3)"
    /// );
    /// assert_eq!(p(&[0, 1], &[1], &[]).check(4).unwrap_err(), "row 1 is in train and in val");
    /// assert_eq!(p(&[0, 0], &[1], &[]).check(4).unwrap_err(), "row 0 is twice in train");
    /// assert_eq!(p(&[0], &[], &[]).check(4).unwrap_err(), "val is empty");
    /// ```
    pub fn check(&self, rows: usize) -> Result<(), String> {
        for (name, part) in self.named() {
            if part.is_empty() && name != "test" {
                return Err(format!("{name} is empty"));
            }
        }
        // Which part claimed each row first.
        let mut owner: Vec<Option<&str>> = vec![None; rows];
        for (name, part) in self.named() {
            for &row in part {
                let Some(slot) = owner.get_mut(row as usize) else {
                    let last = rows.saturating_sub(1);
                    return Err(format!(
                        "{name}: row {row} is out of range: the data has {rows} rows (0 to {last})"
                    ));
                };
                match *slot {
                    Some(first) if first == name => {
                        return Err(format!("row {row} is twice in {name}"))
                    }
                    Some(first) => return Err(format!("row {row} is in {first} and in {name}")),
                    None => *slot = Some(name),
                }
            }
        }
        Ok(())
    }

    /// The parts with their names in files and messages.
    pub fn named(&self) -> [(&'static str, &[u32]); 3] {
        [
            ("train", &self.train),
            ("val", &self.val),
            ("test", &self.test),
        ]
    }

    /// Rows in some part.
    pub fn len(&self) -> usize {
        self.train.len() + self.val.len() + self.test.len()
    }

    /// No row in any part.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
