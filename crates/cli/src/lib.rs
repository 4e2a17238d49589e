//! The `crowdsift` command line as a library: its arguments ([`args`]), each command's a path or
//! two and the engine's own parameter struct for its stage, flattened (so the options, their
//! defaults and their help are the engine's; the Python package takes the same names as keyword
//! arguments). The binary (main.rs) runs and prints.

pub mod args;

pub use args::{Cli, Command};

/// Parses a command line (`argv[0]` is the program name).
pub fn parse<I, T>(argv: I) -> Result<Command, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::Parser;
    Cli::try_parse_from(argv).map(|c| c.command)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(argv: &[&str]) -> Command {
        parse(std::iter::once("crowdsift").chain(argv.iter().copied())).unwrap_or_else(|e| panic!("{argv:?}: {e}"))
    }

    /// Options left out are the engine's own defaults: the command line declares none of its own.
    #[test]
    fn options_left_out_are_the_engines_defaults() {
        let Command::Pii(a) = parsed(&["pii", "D"]) else { panic!("not pii") };
        assert_eq!(a.job, crowdsift_pipeline::PiiJob::default());
        let Command::Redact(a) = parsed(&["redact", "D"]) else { panic!("not redact") };
        assert_eq!(a.job, crowdsift_pipeline::RedactJob::default());
        let Command::Scan(a) = parsed(&["scan", "S", "--out", "D"]) else { panic!("not scan") };
        assert_eq!(a.params, crowdsift_pipeline::ScanParams::default());
        let Command::Embed(a) = parsed(&["embed", "S", "--out", "D"]) else { panic!("not embed") };
        assert_eq!(a.params, crowdsift_pipeline::EmbedParams::default());
        let Command::Audit(a) = parsed(&["audit", "D"]) else { panic!("not audit") };
        assert_eq!(a.job, crowdsift_pipeline::AuditJob::default());
        // What the audit ran on before its options were the engine's: --seed seeds heads and index.
        let p = a.job.params();
        assert_eq!((p.train.seed, p.index.seed, p.train.epochs, p.train.patience, p.folds), (42, 42, 40, 0, 5));
        let Command::Train(a) = parsed(&["train", "D"]) else { panic!("not train") };
        assert_eq!(a.job, crowdsift_pipeline::TrainJob::default());
        // What training ran with before its options were the engine's.
        let p = a.job.train_params();
        assert_eq!((p.epochs, p.lr, p.weight_decay, p.batch, p.patience, p.seed), (40, 1e-3, 1e-2, 64, 10, 42));
        assert_eq!((p.class_weights, p.backbone_lr, p.warmup), (true, 0.1, 0));
        let Command::Train(a) = parsed(&["train", "D", "--mode", "finetune", "--no-class-weights"]) else {
            panic!("not train")
        };
        let p = a.job.train_params();
        assert_eq!((p.warmup, p.class_weights), (5, false));
        assert!(matches!(
            a.job.method(),
            crowdsift_pipeline::Mode::Finetune { unfreeze: 1, views: 8, dropout } if dropout == 0.2
        ));
        let Command::Ocr(a) = parsed(&["ocr", "S", "--out", "D"]) else { panic!("not ocr") };
        assert_eq!(a.job, crowdsift_pipeline::OcrJob::default());
        assert_eq!(a.job.tiles(), Some(1280));
        let Command::Release(a) = parsed(&["release", "D", "--to", "R"]) else { panic!("not release") };
        assert_eq!(a.job, crowdsift_review::ReleaseJob { to: "R".into(), ..Default::default() });
    }

    /// The names the command line gives a stage's options are the names the engine reads them by
    /// from Python (serde): every option, given its default, gives back the defaults.
    fn same_names<T>(extra: &[&str])
    where
        T: clap::Args + serde::Serialize + serde::de::DeserializeOwned + Default + PartialEq + std::fmt::Debug,
    {
        let command = T::augment_args(clap::Command::new("t"));
        let ids: Vec<String> = command.get_arguments().map(|a| a.get_id().to_string()).collect();
        let serde_json::Value::Object(all) = serde_json::to_value(T::default()).unwrap() else { panic!("not a map") };
        let mut given = serde_json::Map::new();
        for id in &ids {
            let value = all.get(id).unwrap_or_else(|| panic!("option {id} has no serde field of that name"));
            given.insert(id.clone(), value.clone());
        }
        let back: T = serde_json::from_value(serde_json::Value::Object(given)).unwrap();
        assert_eq!(back, T::default());
        // Fields that are not options are the engine's own (limits, models of verification, …).
        let mut own: Vec<&str> = all.keys().map(String::as_str).filter(|k| !ids.iter().any(|i| i == k)).collect();
        own.sort();
        assert_eq!(own, extra);
    }

    #[test]
    fn each_option_has_one_name() {
        same_names::<crowdsift_pipeline::ScanParams>(&["batch_size", "duplicates", "working_long_side"]);
        same_names::<crowdsift_pipeline::EmbedParams>(&["limits"]);
        same_names::<crowdsift_pipeline::AuditJob>(&[]);
        same_names::<crowdsift_pipeline::TrainJob>(&[]);
        same_names::<crowdsift_pipeline::PiiJob>(&["limits"]);
        same_names::<crowdsift_pipeline::OcrJob>(&["enhance", "limits"]);
        same_names::<crowdsift_pipeline::RedactJob>(&["face_side", "faces", "limits", "reader", "tile"]);
        same_names::<crowdsift_review::ReleaseJob>(&["limits"]);
        // A value reaches the engine under its option's name.
        let job: crowdsift_pipeline::PiiJob =
            serde_json::from_value(serde_json::json!({"handwriting": 0.7, "phone_regions": ["KE"], "faces": false}))
                .unwrap();
        assert_eq!((job.safety.handwriting, job.faces), (0.7, false));
        assert_eq!(job.phone_regions, Some(vec!["KE".to_owned()]));
        let job: crowdsift_pipeline::OcrJob =
            serde_json::from_value(serde_json::json!({"lang": ["ben"], "engine": "ppocr", "tile": 0})).unwrap();
        assert_eq!((job.tiles(), job.reader.engine), (None, crowdsift_ocr::Engine::Ppocr));
        assert_eq!(job.reader.langs, Some(vec!["ben".to_owned()]));
    }

    #[test]
    fn options_given_reach_the_engine() {
        let Command::Pii(a) = parsed(&[
            "pii",
            "D",
            "--no-faces",
            "--handwriting",
            "0.7",
            "--unread-line-aspect",
            "5",
            "--phone-regions",
            "KE,TZ",
            "-j",
            "3",
        ]) else {
            panic!("not pii")
        };
        let want = crowdsift_pipeline::PiiJob {
            faces: false,
            phone_regions: Some(vec!["KE".into(), "TZ".into()]),
            jobs: 3,
            safety: crowdsift_pii::safety::SafetyParams {
                handwriting: 0.7,
                unread_line_aspect: 5.0,
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(a.job, want);
        let Command::Redact(a) = parsed(&["redact", "D", "--style", "pixelate", "--no-verify", "--quality", "70"])
        else {
            panic!("not redact")
        };
        assert_eq!(
            a.job,
            crowdsift_pipeline::RedactJob {
                style: crowdsift_redact::Style::Pixelate,
                verify: false,
                quality: 70,
                ..Default::default()
            }
        );
        assert!(parse(["crowdsift", "redact", "D", "--style", "smudge"]).is_err());
        let Command::Scan(a) = parsed(&["scan", "S", "-o", "D", "--min-sharpness", "30", "--max-pixels", "1000"])
        else {
            panic!("not scan")
        };
        assert_eq!((a.params.quality.min_sharpness, a.params.limits.max_pixels), (30.0, 1000));
        let Command::Ocr(a) =
            parsed(&["ocr", "S", "-o", "D", "--engine", "tesseract", "--lang", "ben,eng", "--tile", "0"])
        else {
            panic!("not ocr")
        };
        assert_eq!(a.job.reader.engine, crowdsift_ocr::Engine::Tesseract);
        assert_eq!(a.job.reader.langs, Some(vec!["ben".to_owned(), "eng".to_owned()]));
        assert_eq!(a.job.tiles(), None);
        assert_eq!(a.job.reader.tesseract_languages(), ["ben+eng"]);
        assert!(parse(["crowdsift", "release", "D", "--to", "R", "--quality", "0"]).is_err());
    }
}
