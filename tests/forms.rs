//! Form definitions end to end: an XLSForm workbook written at run time with rust_xlsxwriter
//! must parse to the same form as the CSV sample in docs/forms/household-visit, answers are
//! checked against it, and a table of broken forms is refused with the right sheet and row.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use fieldsync::forms::{Form, FormError, ProblemKind, PublishedForm, QuestionType};
use rust_xlsxwriter::Workbook;

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/forms/household-visit");

/// A sheet as rows of cells. `#n:` writes a number cell, `#b:` a boolean cell, `` an empty
/// cell, anything else a string.
type Rows<'a> = &'a [&'a [&'a str]];

fn write_workbook(path: &Path, sheets: &[(&str, Rows<'_>)]) {
    let mut book = Workbook::new();
    for (name, rows) in sheets {
        let sheet = book.add_worksheet();
        sheet.set_name(*name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let (r, c) = (r as u32, c as u16);
                if let Some(n) = cell.strip_prefix("#n:") {
                    sheet.write_number(r, c, n.parse::<f64>().unwrap()).unwrap();
                } else if let Some(b) = cell.strip_prefix("#b:") {
                    sheet.write_boolean(r, c, b == "true").unwrap();
                } else if !cell.is_empty() {
                    sheet.write_string(r, c, *cell).unwrap();
                }
            }
        }
    }
    book.save(path).unwrap();
}

#[rustfmt::skip]
const SURVEY: Rows<'static> = &[
    &["Type", " name ", "label::English (en)", "hint::English (en)", "REQUIRED", "constraint",
      "constraint_message::English (en)", "relevant", "label::Français (fr)"],
    &["note", "intro", "Greet the household and explain the visit.", "", "", "", "", "", "Saluez le ménage."],
    &["select_one crops", "crop", "Main crop this season", "The crop on the largest plot", "#b:true", "", "", "", "Culture principale"],
    &["select_multiple crops", "crops_grown", "All crops grown", "Select every crop grown this year", "no",
      "not(selected(., 'none') and string-length(.) > 4)", "'None' cannot be combined with crops", "", "Toutes les cultures"],
    &[],
    &["integer", "household_size", "How many people live in the household?", "", "TRUE()", ". > 0 and . <= 60",
      "Between 1 and 60 people", "", "Taille du ménage"],
    &["select_one yes_no", "has_water", "Does the household have a water source?", "", "#n:1", "", "", "", "Source d'eau ?"],
    &["select_one water_sources", "water_source", "Main water source", "", "yes", "", "", "${has_water} = 'yes'", "Source principale"],
    &["text", "water_source_other", "Describe the water source", "", "", "string-length(.) <= 80", "At most 80 characters",
      "selected(${water_source}, 'other')", "Décrivez"],
    &["date", "last_vaccination", "Date of the last vaccination", "Leave blank if unknown", "#b:false", ". >= '2000-01-01'",
      "Not before 2000", "${household_size} >= 1", "Dernière vaccination"],
    &["text", "officer_code", "Enumerator code", "Two letters then digits", "0", "regex(., '^[A-Z]{2}[0-9]+$')",
      "Two capital letters followed by digits", "", "Code"],
    &["geopoint", "gps", "Location of the homestead", "", "yes", "", "", "", "Localisation"],
];

#[rustfmt::skip]
const CHOICES: Rows<'static> = &[
    &["list name", "name", "label::English (en)", "label::Français (fr)"],
    &["crops", "rice", "Rice", "Riz"],
    &["crops", "maize", "Maize", "Maïs"],
    &["crops", "cassava", "Cassava", "Manioc"],
    &["crops", "none", "None", "Aucune"],
    &["yes_no", "yes", "Yes", "Oui"],
    &["yes_no", "no", "No", "Non"],
    &["water_sources", "well", "Well", "Puits"],
    &["water_sources", "borehole", "Borehole", "Forage"],
    &["water_sources", "river", "River or stream", "Rivière"],
    &["water_sources", "other", "Other", "Autre"],
];

const SETTINGS: Rows<'static> = &[
    &["form_title", "form_id", "version", "default_language"],
    &[
        "Household visit",
        "household_visit",
        "#n:2026112701",
        "English (en)",
    ],
];

fn sample_workbook(dir: &Path) -> PathBuf {
    let path = dir.join("household-visit.xlsx");
    write_workbook(
        &path,
        &[
            ("survey", SURVEY),
            ("choices", CHOICES),
            ("settings", SETTINGS),
        ],
    );
    path
}

fn answers(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn the_workbook_and_the_csv_sample_are_the_same_form() {
    let dir = tempfile::tempdir().unwrap();
    let from_xlsx = Form::load(&sample_workbook(dir.path())).unwrap();
    let from_csv = Form::load(Path::new(SAMPLE)).unwrap();
    assert_eq!(from_xlsx, from_csv);
    assert_eq!(from_xlsx.content_hash(), from_csv.content_hash());

    assert_eq!(from_csv.form_id(), "household_visit");
    assert_eq!(from_csv.title(), "Household visit");
    assert_eq!(from_csv.author_version(), Some("2026112701"));
    let q = from_csv.question("household_size").unwrap();
    assert_eq!(q.kind, QuestionType::Integer);
    assert!(q.required);
    assert_eq!(q.constraint.as_ref().unwrap().source(), ". > 0 and . <= 60");
    assert_eq!(
        from_csv.question("crop").unwrap().label,
        "Main crop this season"
    );
    assert_eq!(
        from_csv
            .choices(from_csv.question("crop").unwrap())
            .unwrap()
            .len(),
        4
    );

    let columns: Vec<_> = from_csv.answer_columns().iter().map(|c| c.name).collect();
    assert_eq!(
        columns,
        [
            "crop",
            "crops_grown",
            "household_size",
            "has_water",
            "water_source",
            "water_source_other",
            "last_vaccination",
            "officer_code",
            "gps"
        ]
    );
}

#[test]
fn the_form_json_round_trips_and_is_checked_on_the_way_in() {
    let form = Form::load(Path::new(SAMPLE)).unwrap();
    let published = PublishedForm::new(3, form.clone());
    let json = serde_json::to_string(&published).unwrap();
    let back: PublishedForm = serde_json::from_str(&json).unwrap();
    assert_eq!(back, published);
    assert!(back.hash_matches());

    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["form"]["questions"][1]["type"], "select_one crops");
    assert_eq!(
        value["form"]["questions"][5]["relevant"],
        "${has_water} = 'yes'"
    );

    let tampered = json.replace("${has_water} = 'yes'", "${gps} = 'yes'");
    let err = serde_json::from_str::<PublishedForm>(&tampered)
        .unwrap_err()
        .to_string();
    assert!(err.contains("questions[5] (\"water_source\")"), "{err}");
    assert!(err.contains("comes later in the form"), "{err}");
    let unknown_field = json.replacen("\"label\"", "\"appearance\":\"minimal\",\"label\"", 1);
    assert!(serde_json::from_str::<PublishedForm>(&unknown_field).is_err());
}

#[test]
fn visits_are_checked_against_the_sample_form() {
    let form = Form::load(Path::new(SAMPLE)).unwrap();
    let good = answers(&[
        ("crop", "rice"),
        ("crops_grown", "rice maize"),
        ("household_size", "6"),
        ("has_water", "yes"),
        ("water_source", "other"),
        ("water_source_other", "rain tank"),
        ("last_vaccination", "2025-03-14"),
        ("officer_code", "KE042"),
        ("gps", "-1.2921 36.8219 1795 4.5"),
    ]);
    assert_eq!(form.check_answers(&good), Ok(()));

    let bad = answers(&[
        ("crop", "wheat"),
        ("crops_grown", "none rice"),
        ("household_size", "0"),
        ("has_water", "no"),
        ("water_source", "well"),
        ("officer_code", "ke42"),
        ("colour", "blue"),
    ]);
    let problems = form.check_answers(&bad).unwrap_err();
    let got: Vec<(&str, &ProblemKind)> = problems
        .iter()
        .map(|p| (p.question.as_str(), &p.kind))
        .collect();
    assert!(matches!(
        got[0],
        ("crop", ProblemKind::InvalidChoice { .. })
    ));
    assert_eq!(got[1].0, "crops_grown");
    assert_eq!(
        got[2],
        (
            "household_size",
            &ProblemKind::ConstraintFailed {
                message: "Between 1 and 60 people".into()
            }
        )
    );
    assert!(matches!(
        got[3],
        ("water_source", ProblemKind::AnsweredButNotRelevant { .. })
    ));
    assert_eq!(got[4].0, "officer_code");
    assert_eq!(got[5], ("gps", &ProblemKind::MissingRequired));
    assert_eq!(got[6], ("colour", &ProblemKind::UnknownQuestion));
    assert_eq!(got.len(), 7);
}

#[test]
fn load_refuses_what_is_not_a_form() {
    let dir = tempfile::tempdir().unwrap();
    let txt = dir.path().join("form.txt");
    std::fs::write(&txt, "hello").unwrap();
    assert!(matches!(
        Form::load(&txt),
        Err(FormError::UnknownFormat { .. })
    ));
    assert!(matches!(
        Form::load(&dir.path().join("absent.xlsx")),
        Err(FormError::Io { .. })
    ));
    let fake = dir.path().join("fake.xlsx");
    std::fs::write(&fake, "not a zip").unwrap();
    assert!(matches!(Form::load(&fake), Err(FormError::Workbook { .. })));
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let err = Form::load(&empty).unwrap_err();
    assert_eq!(err.problems()[0].sheet, "survey");
    assert!(err.to_string().contains("has no survey.csv"), "{err}");
}

const HEAD: &[&str] = &[
    "type",
    "name",
    "label",
    "required",
    "constraint",
    "relevant",
];
const YES_NO: Rows<'static> = &[
    &["list_name", "name", "label"],
    &["yn", "yes", "Yes"],
    &["yn", "no", "No"],
];

/// A bad form: survey rows under HEAD (or its own header), choices, and the first problem
/// expected: sheet, row and a piece of the message.
struct Bad {
    survey: Rows<'static>,
    choices: Rows<'static>,
    sheet: &'static str,
    row: Option<u32>,
    message: &'static str,
}

const fn bad(
    survey: Rows<'static>,
    choices: Rows<'static>,
    sheet: &'static str,
    row: Option<u32>,
    message: &'static str,
) -> Bad {
    Bad {
        survey,
        choices,
        sheet,
        row,
        message,
    }
}

#[rustfmt::skip]
const BAD_FORMS: &[Bad] = &[
    bad(&[HEAD, &["text", "a", "A"], &["begin group", "g", "G"]], YES_NO, "survey", Some(3), "groups and repeats are not supported"),
    bad(&[HEAD, &["calculate", "c", "C"]], YES_NO, "survey", Some(2), "calculations are not supported"),
    bad(&[HEAD, &["barcode", "b", "B"]], YES_NO, "survey", Some(2), "type \"barcode\" is not supported"),
    bad(&[HEAD, &["start", "s", "S"]], YES_NO, "survey", Some(2), "metadata questions are not supported"),
    bad(&[HEAD, &["select_one yn or_other", "s", "S"]], YES_NO, "survey", Some(2), "'or_other' is not supported"),
    bad(&[&["type", "name", "label", "appearance"], &["text", "a", "A", ""], &["text", "b", "B", "multiline"]], YES_NO,
        "survey", Some(3), "appearance changes how a question is asked"),
    bad(&[&["type", "name", "label", "calculation"], &["integer", "a", "A", "1 + 1"]], YES_NO, "survey", Some(2), "calculations are not supported"),
    bad(&[&["type", "name", "label", "media::image"], &["text", "a", "A", "a.png"]], YES_NO, "survey", Some(2), "media are not supported"),
    bad(&[HEAD, &["text", "a", "A"], &["integer", "a", "Again"]], YES_NO, "survey", Some(3), "already used by question 1"),
    bad(&[HEAD, &["text", "bad name", "A"]], YES_NO, "survey", Some(2), "may only hold letters, digits"),
    bad(&[HEAD, &["text", "a", ""]], YES_NO, "survey", Some(2), "has no label"),
    bad(&[HEAD, &["select_one fruits", "f", "F"]], YES_NO, "survey", Some(2), "list \"fruits\" is not in the choices sheet"),
    bad(&[HEAD, &["text", "a", "A", "maybe"]], YES_NO, "survey", Some(2), "write yes or no"),
    bad(&[HEAD, &["note", "n", "N", "yes"]], YES_NO, "survey", Some(2), "cannot be required"),
    bad(&[HEAD, &["integer", "a", "A", "", ". >> 3"]], YES_NO, "survey", Some(2), "constraint \". >> 3\": at column 4"),
    bad(&[HEAD, &["integer", "a", "A", "", ". > today()"]], YES_NO, "survey", Some(2), "'today' is not supported"),
    bad(&[HEAD, &["integer", "a", "A", "", ". > ${b}"], &["integer", "b", "B"]], YES_NO, "survey", Some(2), "cannot use other answers"),
    bad(&[HEAD, &["text", "a", "A", "", "", "${b} = 'x'"], &["text", "b", "B"]], YES_NO, "survey", Some(2), "comes later in the form"),
    bad(&[HEAD, &["text", "a", "A", "", "", "${nope} = 'x'"]], YES_NO, "survey", Some(2), "no question named \"nope\""),
    bad(&[HEAD, &["select_one yn", "w", "W"], &["text", "a", "A", "", "", "${w} = 'maybe'"]], YES_NO, "survey", Some(3),
        "\"maybe\" is not a choice of list \"yn\""),
    bad(&[HEAD, &["integer", "n", "N"], &["text", "a", "A", "", "", "selected(${n}, 'x')"]], YES_NO, "survey", Some(3),
        "selected() needs a select question"),
    bad(&[HEAD, &["text", "a", "A", "", "regex(., '[unclosed')"]], YES_NO, "survey", Some(2), "invalid regular expression"),
    bad(&[HEAD, &["", "a", "A"]], YES_NO, "survey", Some(2), "the row has no type"),
    bad(&[HEAD, &["note", "n", "Only a note"]], YES_NO, "survey", None, "the form has no questions"),
    bad(&[HEAD, &["select_one yn", "w", "W"]], &[&["list_name", "name", "label"], &["yn", "yes", "Yes"], &["yn", "yes", "Yes again"]],
        "choices", Some(3), "appears twice"),
    bad(&[HEAD, &["select_one yn", "w", "W"]], &[&["list_name", "name", "label"], &["yn", "y e s", "Yes"]],
        "choices", Some(2), "without spaces"),
    bad(&[HEAD, &["select_one yn", "w", "W"]], &[&["list_name", "name", "label", "filter"], &["yn", "yes", "Yes", "north"]],
        "choices", Some(2), "not in the supported subset"),
    bad(&[HEAD, &["select_one yn", "w", "W"]], &[&["list_name", "name"], &["yn", "yes"]], "choices", Some(1), "no \"label\" column"),
];

#[test]
fn broken_forms_are_refused_with_sheet_row_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    for (i, case) in BAD_FORMS.iter().enumerate() {
        let path = dir.path().join(format!("bad{i}.xlsx"));
        write_workbook(&path, &[("survey", case.survey), ("choices", case.choices)]);
        let err = Form::load(&path).expect_err(&format!("case {i} must be refused"));
        let first = err
            .problems()
            .first()
            .unwrap_or_else(|| panic!("case {i}: {err}"));
        assert_eq!(
            (first.sheet.as_str(), first.row),
            (case.sheet, case.row),
            "case {i}: {err}"
        );
        assert!(first.message.contains(case.message), "case {i}: {err}");
    }
}

#[test]
fn every_problem_of_a_form_is_reported_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.xlsx");
    let survey: Rows<'_> = &[
        HEAD,
        &["calculate", "c", "C"],
        &["text", "ok", "OK"],
        &["integer", "n", "N", "sometimes"],
    ];
    write_workbook(&path, &[("survey", survey), ("choices", YES_NO)]);
    let err = Form::load(&path).unwrap_err();
    let rows: Vec<_> = err.problems().iter().map(|p| p.row).collect();
    assert_eq!(rows, [Some(2), Some(4)]);
    let text = err.to_string();
    assert!(text.starts_with("form refused (2 problems):"), "{text}");
    assert!(
        text.contains("survey sheet, row 4: required \"sometimes\""),
        "{text}"
    );
}

#[test]
fn a_csv_folder_without_settings_takes_its_name_and_the_first_label_column() {
    let dir = tempfile::tempdir().unwrap();
    let form_dir = dir.path().join("Water point v2");
    std::fs::create_dir(&form_dir).unwrap();
    std::fs::write(
        form_dir.join("survey.csv"),
        "\u{feff}TYPE , Name,label::Français (fr),Label,guidance_hint,appearance\n\
         \n\
         integer,depth,Profondeur,Depth,Measure at noon,\n\
         ,,,,,\n\
         select_one yn,works,Fonctionne ?,Works?,,\n",
    )
    .unwrap();
    std::fs::write(
        form_dir.join("choices.csv"),
        "list_name,name,label\nyn,1,Yes\nyn,0,No\n",
    )
    .unwrap();
    let form = Form::load(&form_dir).unwrap();
    assert_eq!(form.form_id(), "Water_point_v2");
    assert_eq!(form.title(), "Water_point_v2");
    assert_eq!(form.questions().len(), 2);
    assert_eq!(form.questions()[0].label, "Profondeur");
    assert!(form.check_one("works", "1").is_ok());

    std::fs::write(
        form_dir.join("survey.csv"),
        "type,name,label\ninteger,depth,Depth\n\ntext,depth,Again\n",
    )
    .unwrap();
    let err = Form::load(&form_dir).unwrap_err();
    assert_eq!(err.problems()[0].row, Some(4), "{err}");
}

/// The JSON travels to devices and is stored on both sides: its shape must not drift.
#[test]
fn the_form_json_has_the_documented_shape() {
    use fieldsync::forms::{Choice, Expr, FormParts, Question};
    let question = |name: &str, kind: QuestionType| Question {
        name: name.into(),
        kind,
        label: format!("{name}?"),
        hint: None,
        required: false,
        constraint: None,
        constraint_message: None,
        relevant: None,
    };
    let mut size = question("size", QuestionType::Integer);
    size.required = true;
    size.hint = Some("people".into());
    size.constraint = Some(Expr::parse(". > 0").unwrap());
    size.constraint_message = Some("at least one".into());
    let mut crop = question(
        "crop",
        QuestionType::SelectOne {
            list: "crops".into(),
        },
    );
    crop.relevant = Some(Expr::parse("${size} >= 1").unwrap());
    let form = Form::new(FormParts {
        form_id: "f".into(),
        title: "F".into(),
        author_version: None,
        questions: vec![size, crop],
        choices: [(
            "crops".to_string(),
            vec![Choice {
                name: "rice".into(),
                label: "Rice".into(),
            }],
        )]
        .into_iter()
        .collect(),
    })
    .unwrap();
    let expected = serde_json::json!({
        "form_id": "f",
        "title": "F",
        "questions": [
            {"name": "size", "type": "integer", "label": "size?", "hint": "people", "required": true,
             "constraint": ". > 0", "constraint_message": "at least one"},
            {"name": "crop", "type": "select_one crops", "label": "crop?", "required": false,
             "relevant": "${size} >= 1"}
        ],
        "choices": {"crops": [{"name": "rice", "label": "Rice"}]}
    });
    assert_eq!(serde_json::to_value(&form).unwrap(), expected);
    assert_eq!(serde_json::from_value::<Form>(expected).unwrap(), form);
    assert_eq!(
        form.content_hash(),
        "sha256:ec02b2b6d4ba49df3f986125a44639ac899246f8d3102496241145b35f9936f4",
        "compact JSON in field order, as docs/forms.md says"
    );
}
