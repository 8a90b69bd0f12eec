//! Where an operation's data comes from ([`DataSpec`]: a file, or a catalog flag found in the
//! data folders) and what it turns out to be ([`Opened`]): files are identified by MD5 through
//! the data crate's catalog, never by name.

use std::path::{Path, PathBuf};

use breastmnist_data::{DecodeOptions, Entry, Flag, Size, Task, catalog, decode_npz, identify, md5_hex};

use crate::error::{Error, read};
use crate::event::{DataInfo, Official};

/// A file, or an official dataset by flag and size.
#[derive(Clone, Debug, PartialEq)]
pub enum DataSource {
    File(PathBuf),
    /// Found in `dirs` first, then in the data folders (`breastmnist_data::locate`).
    Catalog {
        flag: Flag,
        size: Size,
        dirs: Vec<PathBuf>,
    },
}

/// The data of an operation, and for a file the catalog does not know its task and classes.
#[derive(Clone, Debug, PartialEq)]
pub struct DataSpec {
    pub source: DataSource,
    pub task: Option<Task>,
    pub classes: Option<usize>,
}

impl DataSpec {
    pub fn file(path: impl Into<PathBuf>) -> Self {
        DataSpec { source: DataSource::File(path.into()), task: None, classes: None }
    }

    /// The file to read: the given one, or the catalog file in the folders.
    pub fn path(&self) -> Result<PathBuf, Error> {
        match &self.source {
            DataSource::File(p) => Ok(p.clone()),
            DataSource::Catalog { flag, size, dirs } => {
                let file = flag.entry().file_name(*size);
                let folders: Vec<PathBuf> = dirs.iter().cloned().chain(breastmnist_data::locate()).collect();
                breastmnist_data::local::find_in(&file, &folders)
                    .map_err(|e| Error::NotFound(format!("{e}; fetch it with `cargo xtask data --dataset {flag} --size {size}`")))
            }
        }
    }

    /// Reads and decodes the data. An official file is decoded with the checks its catalog row
    /// promises; another file needs its task and classes, or else `fallback` (a command's
    /// BreastMNIST layout) when there is one.
    pub fn open(&self, fallback: Option<&DecodeOptions>) -> Result<Opened, Error> {
        let path = self.path()?;
        let bytes = read(&path)?;
        let md5 = md5_hex(&bytes);
        if let DataSource::Catalog { flag, size, .. } = &self.source
            && identify(&md5) != Some((*flag, *size))
        {
            // The file found under the official name must be the official file.
            return Err(Error::Unverified(format!(
                "{} is not the official {} (its MD5 is {md5}, the official {}); fetch it again with `cargo xtask data --dataset {flag} --size {size}`",
                path.display(),
                entry_name(*flag, *size),
                flag.entry().md5(*size)
            )));
        }
        let opened = open_with(&path, &bytes, md5, self.task, self.classes, fallback)?;
        if let (Some((entry, size)), Some(_)) = (opened.official, self.task) {
            return Err(Error::Usage(format!(
                "{} is the official {} ({}, {} classes): --task and --classes are for files the catalog does not know",
                path.display(),
                entry_name(entry.flag, size),
                entry.task,
                entry.classes()
            )));
        }
        Ok(opened)
    }
}

/// A decoded data file and what it is.
pub struct Opened {
    pub path: PathBuf,
    pub data: breastmnist_data::Dataset,
    /// The catalog's row and size, for an official file.
    pub official: Option<(&'static Entry, Size)>,
    pub task: Task,
    /// The file's MD5 (lower-case hex).
    pub md5: String,
    /// The flag its result files are named with: the catalog's, BreastMNIST's for a file read
    /// in BreastMNIST's layout, none for a custom dataset.
    pub flag: Option<Flag>,
}

impl Opened {
    /// The names of the flag's labels (none for a custom dataset).
    pub fn labels(&self) -> Vec<&'static str> {
        self.flag.map(|f| f.entry().labels.to_vec()).unwrap_or_default()
    }

    /// What the file is, for events and `inspect_data`.
    pub fn info(&self) -> DataInfo {
        let d = &self.data;
        DataInfo {
            path: self.path.clone(),
            md5: self.md5.clone(),
            official: self.official.map(|(e, s)| Official { flag: e.flag.name().to_string(), size: s.side() }),
            task: self.task.name().to_string(),
            classes: d.classes(),
            labels: self.labels().iter().map(|s| s.to_string()).collect(),
            channels: d.channels,
            side: d.side,
            splits: [d.train.len(), d.val.len(), d.test.len()],
        }
    }
}

/// `flag` at `size`, as a sentence names it.
pub fn entry_name(flag: Flag, size: Size) -> String {
    format!("{} at {} px", flag.entry().title, size.side())
}

fn open_with(
    path: &Path,
    bytes: &[u8],
    md5: String,
    task: Option<Task>,
    classes: Option<usize>,
    fallback: Option<&DecodeOptions>,
) -> Result<Opened, Error> {
    let data_err = |source| Error::Data { path: path.to_path_buf(), source };
    let path_buf = path.to_path_buf();
    if let Some((flag, size)) = identify(&md5) {
        let entry = flag.entry();
        let data = decode_npz(bytes, &entry.decode_options(size)).map_err(data_err)?;
        return Ok(Opened { path: path_buf, data, official: Some((entry, size)), task: entry.task, md5, flag: Some(flag) });
    }
    if let (None, Some(options)) = (task, fallback) {
        let data = decode_npz(bytes, options).map_err(data_err)?;
        let task = if data.classes() == 2 { Task::Binary } else { Task::MultiClass };
        return Ok(Opened { path: path_buf, data, official: None, task, md5, flag: Some(Flag::Breast) });
    }
    let (Some(task), Some(classes)) = (task, classes) else {
        return Err(Error::Usage(format!(
            "{} is not an official MedMNIST file (its MD5 is in no catalog row); name its task and classes \
             (--task multi-class --classes 4) to read it as a custom dataset",
            path.display()
        )));
    };
    if !(2..=255).contains(&classes) {
        return Err(Error::Usage(format!("--classes must be 2 to 255 (got {classes})")));
    }
    if task == Task::Binary && classes != 2 {
        return Err(Error::Usage(format!("a binary-class dataset has 2 classes (got --classes {classes})")));
    }
    let options = DecodeOptions {
        max_member_bytes: 1 << 31,
        split_sizes: None,
        channels: None,
        side: None,
        targets: catalog::targets(task, classes),
        every_class: true,
    };
    let data = decode_npz(bytes, &options).map_err(data_err)?;
    Ok(Opened { path: path_buf, data, official: None, task, md5, flag: None })
}

/// Decodes a MedMNIST-layout `.npz` with `options` (the commands that take BreastMNIST only).
pub fn load_data_with(path: &Path, options: &DecodeOptions) -> Result<breastmnist_data::Dataset, Error> {
    let bytes = read(path)?;
    decode_npz(&bytes, options).map_err(|source| Error::Data { path: path.to_path_buf(), source })
}

/// BreastMNIST's layout and split sizes.
pub fn load_data(path: &Path) -> Result<breastmnist_data::Dataset, Error> {
    load_data_with(path, &DecodeOptions::default())
}
