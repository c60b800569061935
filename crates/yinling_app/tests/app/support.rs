//! Helpers the app tests share: people queries, names in a list, the text of a workbook.

use yinling_app::{PageRequest, people::PeopleQuery, testing::TestCity};

pub(crate) fn q(text: &str) -> PeopleQuery {
    PeopleQuery {
        q: Some(text.to_owned()),
        ..PeopleQuery::default()
    }
}

pub(crate) async fn names(city: &TestCity, user: &str, query: PeopleQuery) -> Vec<String> {
    let caller = city.caller(user).await;
    let page = city
        .app
        .people()
        .search(&caller, &query, PageRequest::default())
        .await
        .expect("search");
    let mut n: Vec<String> = page.items.into_iter().map(|p| p.name).collect();
    n.sort();
    n
}

/// All cell text of the first sheet, read back with an independent reader.
pub(crate) fn xlsx_text(bytes: &[u8]) -> String {
    use calamine::{Reader, Xlsx};
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("xlsx");
    let range = wb.worksheet_range_at(0).expect("sheet").expect("range");
    range
        .rows()
        .flat_map(|r| r.iter().map(|c| c.to_string()))
        .collect::<Vec<_>>()
        .join("|")
}
