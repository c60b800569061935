#![doc = include_str!("../README.md")]

#[macro_use]
mod vocabulary;

pub mod audit;
pub mod id_number;
pub mod ids;
pub mod job;
pub mod ledger;
pub mod mask;
pub mod matching;
pub mod mediation;
pub mod name;
pub mod need;
pub mod org;
pub mod password;
pub mod person;
pub mod phone;
pub mod region;
pub mod role;
pub mod scope;
pub mod service;
pub mod synthetic;
pub mod text;
pub mod time;

#[cfg(test)]
mod purity {
    /// The domain is free of I/O, and that includes the clock: rules take `now` or `today`
    /// from the caller (the app's `Clock`), so every rule can be tested on a fixed day.
    #[test]
    fn no_source_file_reads_the_clock() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = vec![dir];
        let mut offenders = Vec::new();
        while let Some(path) = files.pop() {
            if path.is_dir() {
                files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            // Tests may time themselves; nothing outside a test module may read a clock.
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            for needle in ["Utc::now", "Local::now", "SystemTime::now", "Instant::now"] {
                if code.contains(needle) {
                    offenders.push(format!("{}: {needle}", path.display()));
                }
            }
        }
        assert!(offenders.is_empty(), "{offenders:?}");
    }
}
