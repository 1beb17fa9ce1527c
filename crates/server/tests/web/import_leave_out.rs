//! The import preview can leave out any column, also one its header names a
//! field by: every column's menu offers "Leave out", and the import then
//! reads nothing from that column.

use crate::common::{Backend, TestApp, selected_value};

use super::imports::{count, report_page, upload};

backend_tests!(a_recognized_column_is_left_out);

const PEOPLE: &str = "First name,Last name,Email,Job title,Colour\n\
                      Ana,Lima,ana@example.com,Buyer,x\n\
                      Bruno,Costa,bruno@example.com,Owner,y\n";

/// The `<option>` values of `<select name="NAME">`.
fn options(html: &str, name: &str) -> Vec<String> {
    let at = html.find(&format!("name=\"{name}\"")).unwrap_or_else(|| panic!("no select {name}"));
    let select = &html[at..at + html[at..].find("</select>").expect("a closed select")];
    select
        .split("<option value=\"")
        .skip(1)
        .map(|option| option[..option.find('"').expect("a quoted value")].to_owned())
        .collect()
}

async fn a_recognized_column_is_left_out(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let web = app.web_admin().await;
    let preview_path = upload(&web, "people", PEOPLE).await;
    let preview = web.get(&preview_path).await.want(200);
    let html = &preview.text;

    // Every column offers "Leave out", the ones recognized by their header too.
    for (index, field) in ["first_name", "last_name", "emails", "job_title", ""].into_iter().enumerate() {
        let name = format!("column_{index}");
        assert_eq!(selected_value(html, &name).as_deref(), Some(field), "{name} is pre-set from its header");
        let choices = options(html, &name);
        assert_eq!(choices.first().map(String::as_str), Some(""), "{name} cannot be left out: {choices:?}");
        assert_eq!(choices.iter().filter(|c| c.is_empty()).count(), 1, "{name} offers it twice: {choices:?}");
    }
    assert!(html.contains("— Leave out —"), "the choice is not named");

    // "Preview again" keeps a recognized column left out.
    let columns = [
        ("column_0", "first_name"),
        ("column_1", "last_name"),
        ("column_2", "emails"),
        ("column_3", ""),
        ("column_4", ""),
    ];
    let mut form = vec![("action", "preview"), ("mode", "skip-invalid"), ("delimiter", ",")];
    form.extend_from_slice(&columns);
    let again = web.post_form(&preview_path, &form).await.want(200);
    assert_eq!(selected_value(&again.text, "column_3").as_deref(), Some(""), "the job title column came back");
    assert_eq!(selected_value(&again.text, "column_2").as_deref(), Some("emails"));

    // Another column may take the field the left-out one was recognized as.
    let mut swapped = vec![("action", "preview"), ("mode", "skip-invalid"), ("delimiter", ",")];
    swapped.extend_from_slice(&[("column_3", ""), ("column_4", "job_title")]);
    let swapped = web.post_form(&preview_path, &swapped).await.want(200);
    assert_eq!(selected_value(&swapped.text, "column_4").as_deref(), Some("job_title"));
    assert!(!swapped.text.contains("both fill job_title"), "{}", swapped.text);

    // The import reads nothing from it.
    let mut form = vec![("action", "start"), ("mode", "skip-invalid"), ("delimiter", ",")];
    form.extend_from_slice(&columns);
    let started = web.post_form(&preview_path, &form).await.want(303);
    let job_path = started.header("location").expect("a redirect to the job");
    let report = report_page(&web, &job_path).await;
    assert_eq!(count(&report, "created"), "2");
    let mut people = app.all_people().await;
    people.sort_by_key(|p| p.fields.full_name());
    let names: Vec<String> = people.iter().map(|p| p.fields.full_name()).collect();
    assert_eq!(names, ["Ana Lima", "Bruno Costa"]);
    assert!(people.iter().all(|p| p.fields.job_title.is_none()), "a left-out column was imported: {people:?}");
    assert_eq!(people[0].fields.primary_email().map(|e| e.to_string()).as_deref(), Some("ana@example.com"));
}
