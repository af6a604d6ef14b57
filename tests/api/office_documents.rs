//! Documents as offices file them: the bulletin, a progress report and the rectification plan
//! (整改方案) of the demo inspection as DOCX, read back (unzipped, their XML's text and structure
//! checked: title, headings in order, A4 and GB/T 9704's margins, fonts, tables with a repeated
//! header and a row per finding, the road map's pictures and their references, page numbers,
//! the issuing body and date at the end), per role; and the bulletin and the plan rendered by
//! LibreOffice (headless) to PDF, a PNG of a page of each kept with the browser tests'
//! screenshots (the bulletin's first page, the plan's first page of the road map).

use std::io::Read;

use serde_json::Value;

use crate::helpers::{TestApp, TestUser, spawn_app};

const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

async fn get(app: &TestApp, token: Option<&str>, path: &str) -> reqwest::Response {
    let mut request = app.client.get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

/// The DOCX at `path` as `token` downloads it (200 and the Word media type asserted).
async fn docx(app: &TestApp, token: &str, path: &str) -> Vec<u8> {
    let response = get(app, Some(token), path).await;
    assert_eq!(response.status(), 200, "{path}");
    assert_eq!(response.headers()["content-type"], DOCX, "{path}");
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename="),
        "{path}"
    );
    response.bytes().await.unwrap().to_vec()
}

/// A part of the package, as text.
fn part(docx: &[u8], name: &str) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(docx)).unwrap();
    let mut text = String::new();
    archive
        .by_name(name)
        .unwrap_or_else(|_| panic!("{name} in the package"))
        .read_to_string(&mut text)
        .unwrap();
    text
}

/// The text of the `<w:t>` elements of `xml`, in order.
fn text(xml: &str) -> String {
    let mut out = String::new();
    for piece in xml.split("<w:t").skip(1) {
        // `<w:t>` or `<w:t xml:space="preserve">`, not `<w:tbl>`, `<w:tr>`, `<w:tc>`...
        if !(piece.starts_with('>') || piece.starts_with(' ')) {
            continue;
        }
        if let Some(open) = piece.find('>')
            && let Some(close) = piece.find("</w:t>")
        {
            out.push_str(&piece[open + 1..close]);
        }
    }
    out
}

/// The body's paragraphs outside tables: (their XML, their text), in order.
fn paragraphs(document: &str) -> Vec<(String, String)> {
    let mut outside = String::new();
    let mut rest = document;
    while let Some(start) = rest.find("<w:tbl>") {
        outside.push_str(&rest[..start]);
        let end = rest[start..].find("</w:tbl>").unwrap() + start + "</w:tbl>".len();
        rest = &rest[end..];
    }
    outside.push_str(rest);
    outside
        .split("</w:p>")
        .filter(|p| p.contains("<w:p>") || p.contains("<w:p "))
        .map(|p| (p.to_owned(), text(p)))
        .collect()
}

/// The tables: each one's rows, as (their XML, their text).
fn tables(document: &str) -> Vec<Vec<(String, String)>> {
    document
        .split("<w:tbl>")
        .skip(1)
        .map(|t| {
            let table = &t[..t.find("</w:tbl>").unwrap()];
            table
                .split("<w:tr>")
                .skip(1)
                .map(|r| (r.to_owned(), text(r)))
                .collect()
        })
        .collect()
}

/// Where each of `wanted` stands among the paragraphs' texts (each must be there).
fn order(paragraphs: &[(String, String)], wanted: &[&str]) -> Vec<usize> {
    wanted
        .iter()
        .map(|w| {
            paragraphs
                .iter()
                .position(|(_, t)| t == w)
                .unwrap_or_else(|| panic!("{w} among the paragraphs"))
        })
        .collect()
}

fn ascending(positions: &[usize]) -> bool {
    positions.windows(2).all(|w| w[0] < w[1])
}

/// The page, the margins, the page numbers and the fonts every document shares.
fn laid_out_as_an_official_document(docx: &[u8]) {
    let document = part(docx, "word/document.xml");
    // A4, and GB/T 9704's margins: top 37 mm, right 26 mm, bottom 35 mm, left 28 mm.
    assert!(
        document.contains(r#"<w:pgSz w:w="11906" w:h="16838" />"#),
        "A4"
    );
    assert!(
        document.contains(r#"<w:pgMar w:top="2098" w:right="1474" w:bottom="1984" w:left="1587""#),
        "margins"
    );
    // Body text in 仿宋_GB2312, 三号 (16 pt: 32 half-points), as the East Asian font.
    assert!(document.contains(r#"w:eastAsia="仿宋_GB2312""#));
    assert!(document.contains(r#"<w:sz w:val="32" />"#));
    // The font table tells Word and WPS what to use where a font is missing.
    let fonts = part(docx, "word/fontTable.xml");
    for (name, alt) in [
        ("仿宋_GB2312", "仿宋"),
        ("方正小标宋简体", "宋体"),
        ("黑体", "SimHei"),
        ("楷体_GB2312", "楷体"),
    ] {
        assert!(
            fonts.contains(&format!(
                r#"<w:font w:name="{name}"><w:altName w:val="{alt}" /><w:charset w:val="86" />"#
            )),
            "{name} in {fonts}"
        );
    }
    // Page numbers: — 1 — in the footer.
    let footer = part(docx, "word/footer1.xml");
    assert!(
        footer.contains("<w:instrText>PAGE</w:instrText>"),
        "{footer}"
    );
    assert_eq!(text(&footer), "— 1 —");
    assert!(
        document.contains(r#"<w:footerReference w:type="default""#),
        "the footer is the section's"
    );
}

/// The title paragraph: centred, 方正小标宋简体 二号 (22 pt).
fn is_title(paragraph: &str) {
    assert!(
        paragraph.contains(r#"<w:jc w:val="center" />"#),
        "{paragraph}"
    );
    assert!(
        paragraph.contains(r#"w:eastAsia="方正小标宋简体""#),
        "{paragraph}"
    );
    assert!(paragraph.contains(r#"<w:sz w:val="44" />"#), "{paragraph}");
}

/// The issuing body and the date, the last two paragraphs, to the right.
fn signed(paragraphs: &[(String, String)], issuer: &str) {
    let [.., (by, by_text), (on, on_text)] = paragraphs else {
        panic!("a signature");
    };
    assert_eq!(by_text, issuer);
    assert!(
        on_text.starts_with("20") && on_text.ends_with('日') && on_text.contains('年'),
        "{on_text}"
    );
    for p in [by, on] {
        assert!(p.contains(r#"<w:jc w:val="right" />"#), "{p}");
    }
}

/// Rows of a table that are not its header nor a group's heading (merged across the row).
fn body_rows(table: &[(String, String)]) -> Vec<&(String, String)> {
    table
        .iter()
        .skip(1)
        .filter(|(xml, _)| !xml.contains("<w:gridSpan"))
        .collect()
}

const UNIT: &str = "中共湛江市委统一战线工作部";

#[tokio::test]
async fn the_plan_prints_the_three_lists_the_timetable_and_the_road_map_of_the_demo_inspection() {
    let app = spawn_app().await;
    let plan = docx(&app, &TestUser::admin(), "/api/v1/inspections/1/plan").await;
    laid_out_as_an_official_document(&plan);
    let document = part(&plan, "word/document.xml");
    let paragraphs = paragraphs(&document);
    assert_eq!(
        paragraphs[0].1,
        format!("{UNIT}关于市委第五巡察组巡察反馈意见的整改方案")
    );
    is_title(&paragraphs[0].0);
    assert!(paragraphs[1].1.contains("反馈问题共35个，整改措施64项。"));
    let headings = [
        "一、问题清单",
        "二、任务清单",
        "三、责任清单",
        "四、时间表",
        "五、路线图",
    ];
    let at = order(&paragraphs, &headings);
    assert!(ascending(&at), "{at:?}");
    for k in at {
        // 一、 headings in 黑体.
        assert!(
            paragraphs[k].0.contains(r#"w:eastAsia="黑体""#),
            "{}",
            paragraphs[k].1
        );
    }
    signed(&paragraphs, UNIT);

    let tables = tables(&document);
    assert_eq!(tables.len(), 5, "a table per list and the road map");
    for table in &tables {
        // The header row repeats on every page; only it.
        assert!(table[0].0.contains("<w:tblHeader />"), "{}", table[0].1);
        assert!(
            table
                .iter()
                .skip(1)
                .all(|(xml, _)| !xml.contains("<w:tblHeader"))
        );
    }
    // 问题清单: the header, the three headings and 其他问题 across the row, a row per finding.
    let problems = &tables[0];
    assert!(
        problems[0].1.starts_with("序号问题整改类型整改时限"),
        "{}",
        problems[0].1
    );
    let groups: Vec<&str> = problems
        .iter()
        .filter(|(xml, _)| xml.contains("<w:gridSpan"))
        .map(|(_, t)| t.as_str())
        .collect();
    assert_eq!(groups.len(), 4, "{groups:?}");
    assert!(groups[0].starts_with("一、"), "{groups:?}");
    assert_eq!(groups[3], "其他问题");
    let findings = body_rows(problems);
    assert_eq!(findings.len(), 35);
    assert!(
        findings[0]
            .1
            .starts_with("1贯彻落实中央决策和上级部署不到位"),
        "{}",
        findings[0].1
    );
    // 任务清单: a row per measure. 责任清单: leaders, departments, people. 路线图: a row per finding.
    assert_eq!(body_rows(&tables[1]).len(), 64);
    let responsibility_groups: Vec<&str> = tables[2]
        .iter()
        .filter(|(xml, _)| xml.contains("<w:gridSpan"))
        .map(|(_, t)| t.as_str())
        .collect();
    assert_eq!(
        responsibility_groups,
        ["一、责任领导", "二、责任科室", "三、责任人"]
    );
    assert!(
        tables[3][0].1.starts_with("时段报送日"),
        "{}",
        tables[3][0].1
    );
    assert!(
        body_rows(&tables[3])
            .iter()
            .all(|(_, t)| t.contains("15日") || t.contains("月"))
    );
    assert_eq!(body_rows(&tables[4]).len(), 35);

    // 五、路线图: the chart as pictures between the heading and the steps' table.
    let road = paragraphs
        .iter()
        .position(|(_, t)| t == "五、路线图")
        .unwrap();
    let pictures = road_map_pictures(&plan);
    if rectrack::report::roadmap::raster::chinese_font().is_some() {
        // The demo's 35 rows take two pages of the chart.
        assert_eq!(pictures.len(), 2, "{pictures:?}");
        let drawn: Vec<usize> = paragraphs
            .iter()
            .enumerate()
            .filter(|(_, (xml, _))| xml.contains("<w:drawing>"))
            .map(|(k, _)| k)
            .collect();
        assert_eq!(drawn.len(), 2);
        assert!(drawn.iter().all(|&k| k > road), "{drawn:?} after {road}");
        // Each as wide as the text (156 mm: 8,845 twips), in proportion, at most 205 mm tall.
        for (k, (_, width, height)) in pictures.iter().enumerate() {
            assert_eq!(*width, 1920, "drawn at twice the print layout's 960");
            let (xml, _) = &paragraphs[drawn[k]];
            assert!(xml.contains(r#"<wp:extent cx="5616575" cy=""#), "{xml}");
            let cy: f64 = xml
                .split(r#"<wp:extent cx="5616575" cy=""#)
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .unwrap()
                .parse()
                .unwrap();
            assert!((cy / 5616575.0 - *height as f64 / 1920.0).abs() < 0.01);
            assert!(cy <= 205.0 * 36_000.0);
        }
        assert!(paragraphs[road + 1].1.starts_with("路线图以问题为行"));
    } else {
        assert!(pictures.is_empty());
        assert!(
            paragraphs[road + 1].1.starts_with("（本机未安装中文字体"),
            "{}",
            paragraphs[road + 1].1
        );
    }
}

/// The pictures of a document: each `word/media` member that the document's body shows
/// (`a:blip r:embed`) through a relationship of the document's, in the order shown, as (its
/// member's name, width, height in pixels from its PNG header). Drawings are numbered apart.
fn road_map_pictures(docx: &[u8]) -> Vec<(String, u32, u32)> {
    let document = part(docx, "word/document.xml");
    let rels = part(docx, "word/_rels/document.xml.rels");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(docx)).unwrap();
    let media: Vec<String> = archive
        .file_names()
        .map(|n| n.unwrap().into_owned())
        .filter(|n| n.starts_with("word/media/") && !n.ends_with('/'))
        .collect();
    let shown: Vec<&str> = document
        .split(r#"<a:blip r:embed=""#)
        .skip(1)
        .map(|rest| &rest[..rest.find('"').unwrap()])
        .collect();
    assert_eq!(
        shown.len(),
        media.len(),
        "a member per picture shown: {media:?}"
    );
    let drawings: Vec<&str> = document
        .split(r#"<wp:docPr id=""#)
        .skip(1)
        .map(|rest| &rest[..rest.find('"').unwrap()])
        .collect();
    let expected: Vec<String> = (1..=shown.len()).map(|n| n.to_string()).collect();
    assert_eq!(drawings, expected, "drawings numbered apart");
    shown
        .iter()
        .map(|id| {
            let relation = rels
                .split("<Relationship ")
                .find(|r| r.contains(&format!(r#"Id="{id}""#)))
                .unwrap_or_else(|| panic!("{id} in {rels}"));
            let target = relation.split(r#"Target=""#).nth(1).unwrap();
            let name = format!("word/{}", &target[..target.find('"').unwrap()]);
            assert!(relation.contains("/relationships/image"), "{relation}");
            let mut png = Vec::new();
            archive
                .by_name(&name)
                .unwrap_or_else(|_| panic!("{name} in the package"))
                .read_to_end(&mut png)
                .unwrap();
            assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name} a PNG");
            let (width, height) = png_size(&png);
            (name, width, height)
        })
        .collect()
}

/// A PNG's width and height, from its header.
fn png_size(png: &[u8]) -> (u32, u32) {
    let at = |k: usize| u32::from_be_bytes([png[k], png[k + 1], png[k + 2], png[k + 3]]);
    (at(16), at(20))
}

#[tokio::test]
async fn the_bulletin_and_a_progress_report_come_as_official_documents() {
    let app = spawn_app().await;
    let manager = TestUser::manager("ZJTZB");
    let bulletin = app.bulletin(&manager).await;
    let file = docx(
        &app,
        &manager,
        &format!("/api/v1/reports/{bulletin}?format=docx"),
    )
    .await;
    laid_out_as_an_official_document(&file);
    let document = part(&file, "word/document.xml");
    let blocks = paragraphs(&document);
    assert_eq!(
        blocks[0].1,
        format!("{UNIT}关于巡察整改阶段性进展情况的通报")
    );
    is_title(&blocks[0].0);
    // Sections 一、二、三 in 黑体, the three headings of section 二 in 楷体, in order.
    let sections: Vec<usize> = ["一、", "二、", "三、"]
        .iter()
        .map(|n| {
            blocks
                .iter()
                .position(|(xml, t)| t.starts_with(n) && xml.contains(r#"w:eastAsia="黑体""#))
                .unwrap_or_else(|| panic!("section {n}"))
        })
        .collect();
    assert!(ascending(&sections), "{sections:?}");
    // Section 二's three headings in 楷体, as the unit numbers them (its second as (二)).
    let headings: Vec<usize> = (sections[1]..sections[2])
        .filter(|&k| {
            let (xml, t) = &blocks[k];
            xml.contains(r#"w:eastAsia="楷体_GB2312""#)
                && !xml.contains(r#"w:eastAsia="仿宋_GB2312""#)
                && t.contains("方面问题的整改情况")
        })
        .collect();
    assert_eq!(headings.len(), 3, "{headings:?}");
    assert!(blocks[headings[0]].1.starts_with("（一）"));
    assert!(blocks[headings[2]].1.starts_with("（三）"));
    // Section 一's items open with their heading in 楷体, the text following in 仿宋.
    let item = blocks
        .iter()
        .find(|(_, t)| t.starts_with("（一）加强巡察整改的组织领导。"))
        .unwrap();
    assert!(
        item.0.contains(r#"w:eastAsia="楷体_GB2312""#)
            && item.0.contains(r#"w:eastAsia="仿宋_GB2312""#)
    );
    // The 21 published problems, each opening with its number and title in bold 仿宋.
    let problems: Vec<&(String, String)> = blocks
        .iter()
        .filter(|(xml, t)| {
            t.split_once(". ")
                .is_some_and(|(n, _)| n.parse::<u32>().is_ok())
                && xml.contains("<w:b />")
        })
        .collect();
    assert_eq!(problems.len(), 21);
    assert!(problems[0].1.starts_with("1. "), "{}", problems[0].1);
    let markdown = app.markdown(&manager, &bulletin).await;
    let signature: Vec<&str> = markdown
        .lines()
        .filter_map(|l| l.strip_prefix("<p align=\"right\">"))
        .map(|l| l.trim_end_matches("</p>"))
        .collect();
    assert_eq!(signature.len(), 2, "{markdown}");
    signed(&blocks, signature[0]);
    assert_eq!(blocks.last().unwrap().1, signature[1]);

    let report = app.report(&manager).await;
    let file = docx(
        &app,
        &manager,
        &format!("/api/v1/reports/{report}?format=docx"),
    )
    .await;
    laid_out_as_an_official_document(&file);
    let document = part(&file, "word/document.xml");
    let paragraphs = paragraphs(&document);
    assert_eq!(paragraphs[0].1, format!("{UNIT}关于巡察整改进展情况的报告"));
    is_title(&paragraphs[0].0);
    let at = order(
        &paragraphs,
        &["一、总体情况", "二、问题整改情况", "三、整改台账"],
    );
    assert!(ascending(&at), "{at:?}");
    assert!(
        paragraphs[at[0] + 1].1.starts_with("巡察反馈问题共35个"),
        "{}",
        paragraphs[at[0] + 1].1
    );
    // Section 二's three levels: （一） each heading in 楷体 (the findings under none last, as
    // 其他问题), 1. each finding in bold 仿宋, its text in plain 仿宋 after it.
    let section = &paragraphs[at[1] + 1..at[2]];
    let subheadings: Vec<&str> = section
        .iter()
        .filter(|(xml, _)| xml.contains(r#"w:eastAsia="楷体_GB2312""#))
        .map(|(_, t)| t.as_str())
        .collect();
    assert_eq!(subheadings.len(), 4, "{subheadings:?}");
    for (k, n) in ["（一）", "（二）", "（三）"].iter().enumerate() {
        assert!(subheadings[k].starts_with(n), "{subheadings:?}");
    }
    assert_eq!(subheadings[3], "（四）其他问题");
    let items: Vec<&str> = section
        .iter()
        .filter(|(xml, t)| {
            xml.contains("<w:b />")
                && t.split_once(". ")
                    .is_some_and(|(n, _)| n.parse::<u32>().is_ok())
        })
        .map(|(_, t)| t.as_str())
        .collect();
    assert_eq!(items.len(), 35);
    assert!(items[0].starts_with("1. "), "{}", items[0]);
    assert!(
        section
            .iter()
            .any(|(xml, t)| t.starts_with("责任领导：") && !xml.contains("<w:b />"))
    );
    signed(&paragraphs, UNIT);
    let tables = tables(&document);
    assert_eq!(tables.len(), 1);
    assert!(tables[0][0].0.contains("<w:tblHeader />"));
    assert_eq!(body_rows(&tables[0]).len(), 35, "a ledger row per finding");
}

#[tokio::test]
async fn the_documents_are_read_within_reach_as_the_other_downloads_are() {
    let app = spawn_app().await;
    // A section's plan holds its own part: 宗教科's four findings under the first heading.
    let officer = TestUser::officer("ZJTZB-ZJK");
    let plan = docx(&app, &officer, "/api/v1/inspections/1/plan").await;
    let document = part(&plan, "word/document.xml");
    let problems = &tables(&document)[0];
    let ordinals: Vec<String> = body_rows(problems)
        .iter()
        .map(|(_, t)| t.chars().take_while(char::is_ascii_digit).collect())
        .collect();
    assert_eq!(ordinals, ["2", "11", "12", "13"]);
    // The inspection office reads the whole plan.
    let whole = docx(&app, &TestUser::inspector(), "/api/v1/inspections/1/plan").await;
    assert_eq!(
        body_rows(&tables(&part(&whole, "word/document.xml"))[0]).len(),
        35
    );

    // Out of reach: not found, as the lists are.
    let outside = TestUser::manager("ZJSW-XCB");
    for path in [
        "/api/v1/inspections/1/plan",
        "/api/v1/inspections/999/plan?format=docx",
    ] {
        let response = get(&app, Some(&outside), path).await;
        assert_eq!(response.status(), 404, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "NOT_FOUND", "{path}");
    }
    // A report is the unit's document: a section's officer finds it in no format, DOCX included.
    let manager = TestUser::manager("ZJTZB");
    let report = app.report(&manager).await;
    let bulletin = app.bulletin(&manager).await;
    for id in [&report, &bulletin] {
        for format in ["json", "docx"] {
            let path = format!("/api/v1/reports/{id}?format={format}");
            let response = get(&app, Some(&TestUser::officer("ZJTZB-BGS")), &path).await;
            assert_eq!(response.status(), 404, "{path}");
            let response = get(&app, Some(&outside), &path).await;
            assert_eq!(response.status(), 404, "{path}");
        }
    }
    // Anonymous callers are refused before anything.
    for path in [
        "/api/v1/inspections/1/plan".to_owned(),
        format!("/api/v1/reports/{report}?format=docx"),
    ] {
        assert_eq!(get(&app, None, &path).await.status(), 401, "{path}");
    }
    // Formats a document does not come in are refused naming those it does.
    let admin = TestUser::admin();
    let response = get(&app, Some(&admin), "/api/v1/inspections/1/plan?format=pdf").await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "BAD_USER_INPUT");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("docx"),
        "{body}"
    );
    let response = get(
        &app,
        Some(&admin),
        &format!("/api/v1/reports/{report}?format=pdf"),
    )
    .await;
    assert_eq!(response.status(), 400);
    // GraphQL hands out the address of the Word rendering beside the others.
    let downloads = app
        .data(
            &manager,
            "query($id: ID!) { report(id: $id) { downloads { docx } } }",
            serde_json::json!({"id": report}),
        )
        .await;
    assert_eq!(
        downloads["report"]["downloads"]["docx"],
        format!("/api/v1/reports/{report}?format=docx")
    );
}

/// LibreOffice, headless: `RECTRACK_SOFFICE` or `soffice`.
fn soffice() -> String {
    std::env::var("RECTRACK_SOFFICE").unwrap_or_else(|_| "soffice".to_owned())
}

/// Whether `program` runs, asked its version with `flag` (`--version` for LibreOffice, `-v`
/// for poppler's tools).
fn present(program: &str, flag: &str) -> bool {
    std::process::Command::new(program)
        .arg(flag)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A document converted by LibreOffice: its folder (the DOCX, the PDF, pictures of pages) and
/// what poppler's `pdfinfo` says of the PDF.
struct Rendered {
    dir: std::path::PathBuf,
    pdf: std::path::PathBuf,
    info: String,
}

impl Rendered {
    fn field(&self, name: &str) -> String {
        self.info
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::trim)
            .unwrap_or_else(|| panic!("{name} in {}", self.info))
            .to_owned()
    }

    /// Page `page` as a PNG at `dpi`, checked to be an upright A4 page, kept among the
    /// screenshots as `artifact`.
    fn keep_page(&self, page: u32, dpi: u32, artifact: &str) -> String {
        let stem = self.dir.join(format!("page-{page}"));
        let png = std::process::Command::new("pdftoppm")
            .args(["-png", "-r", &dpi.to_string(), "-singlefile"])
            .args(["-f", &page.to_string(), "-l", &page.to_string()])
            .arg(&self.pdf)
            .arg(&stem)
            .output()
            .expect("pdftoppm runs");
        assert!(
            png.status.success(),
            "{}",
            String::from_utf8_lossy(&png.stderr)
        );
        let picture = std::fs::read(stem.with_extension("png")).unwrap();
        assert!(picture.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
        let (width, height) = png_size(&picture);
        // A4 upright: 210 by 297.
        assert!(
            (height as f64 / width as f64 - 297.0 / 210.0).abs() < 0.02,
            "{width}x{height}"
        );
        let kept = crate::browser::artifact(artifact);
        std::fs::write(&kept, &picture).unwrap();
        kept
    }
}

impl Drop for Rendered {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `file` (named `name`.docx) converted to PDF by LibreOffice, headless, checked to be A4.
/// Without LibreOffice and poppler this says so and gives nothing, unless
/// `RECTRACK_DOCX_RENDER=required` (as `.ci/run` sets after installing them).
async fn libreoffice(name: &str, file: Vec<u8>) -> Option<Rendered> {
    if !(present(&soffice(), "--version") && present("pdftoppm", "-v") && present("pdfinfo", "-v"))
    {
        assert!(
            std::env::var("RECTRACK_DOCX_RENDER").as_deref() != Ok("required"),
            "DOCX rendering is required: install libreoffice-writer-nogui and poppler-utils"
        );
        eprintln!(
            "note: DOCX rendering skipped (install libreoffice-writer-nogui and poppler-utils)"
        );
        return None;
    }
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("docx-render-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let source = dir.join(format!("{name}.docx"));
    std::fs::write(&source, &file).unwrap();
    let pdf = dir.join(format!("{name}.pdf"));
    {
        let (dir, source, pdf) = (dir.clone(), source.clone(), pdf.clone());
        tokio::task::spawn_blocking(move || {
            // A profile of its own, so that no other LibreOffice (or run) shares it.
            let converted = std::process::Command::new(soffice())
                .arg(format!(
                    "-env:UserInstallation=file://{}",
                    dir.join("profile").display()
                ))
                .args([
                    "--headless",
                    "--norestore",
                    "--convert-to",
                    "pdf",
                    "--outdir",
                ])
                .arg(&dir)
                .arg(&source)
                .output()
                .expect("soffice runs");
            let bytes = std::fs::read(&pdf).unwrap_or_else(|_| {
                panic!(
                    "no PDF: {}{}",
                    String::from_utf8_lossy(&converted.stdout),
                    String::from_utf8_lossy(&converted.stderr)
                )
            });
            assert!(bytes.starts_with(b"%PDF-"));
        })
        .await
        .unwrap();
    }
    // Pages, and their size, as poppler reads the PDF.
    let info = std::process::Command::new("pdfinfo")
        .arg(&pdf)
        .output()
        .expect("pdfinfo runs");
    let rendered = Rendered {
        dir,
        pdf,
        info: String::from_utf8_lossy(&info.stdout).into_owned(),
    };
    assert!(
        rendered.field("Page size:").ends_with("(A4)"),
        "{}",
        rendered.info
    );
    Some(rendered)
}

/// The demo's bulletin converted by LibreOffice: A4 pages, the first kept as a PNG.
#[tokio::test]
async fn libreoffice_renders_the_bulletin_to_a4_pages() {
    let app = spawn_app().await;
    let manager = TestUser::manager("ZJTZB");
    let bulletin = app.bulletin(&manager).await;
    let file = docx(
        &app,
        &manager,
        &format!("/api/v1/reports/{bulletin}?format=docx"),
    )
    .await;
    let Some(rendered) = libreoffice("bulletin", file).await else {
        return;
    };
    let pages: u32 = rendered.field("Pages:").parse().unwrap();
    // The bulletin of the demo: its title, three sections and 21 problems fill several pages.
    assert!((4..=30).contains(&pages), "{pages} pages");
    let kept = rendered.keep_page(1, 50, "bulletin-docx.png");
    eprintln!("the bulletin's first page as LibreOffice renders it: {kept} ({pages} pages)");
}

/// The demo's plan converted by LibreOffice: the road map's pictures are placed on its pages
/// (poppler lists each image and its page), the first of them kept as a PNG to look at.
#[tokio::test]
async fn libreoffice_renders_the_plan_with_the_road_map_as_pictures() {
    if rectrack::report::roadmap::raster::chinese_font().is_none() {
        assert!(
            std::env::var("RECTRACK_DOCX_RENDER").as_deref() != Ok("required"),
            "a Chinese font is required to draw the road map: install fonts-wqy-zenhei"
        );
        eprintln!("note: no Chinese font installed: the plan has no road map pictures here");
        return;
    }
    let app = spawn_app().await;
    let plan = docx(&app, &TestUser::admin(), "/api/v1/inspections/1/plan").await;
    let pictures = road_map_pictures(&plan);
    let Some(rendered) = libreoffice("plan", plan).await else {
        return;
    };
    let listed = std::process::Command::new("pdfimages")
        .arg("-list")
        .arg(&rendered.pdf)
        .output()
        .expect("pdfimages runs (poppler-utils)");
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    // "page num type width height ...": the images (not their alpha masks) and their pages.
    let images: Vec<(u32, u32, u32)> = listed
        .lines()
        .skip(2)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() > 4 && f[2] == "image").then(|| {
                (
                    f[0].parse().unwrap(),
                    f[3].parse().unwrap(),
                    f[4].parse().unwrap(),
                )
            })
        })
        .collect();
    // As many as the document holds, each in its proportions (LibreOffice may resample them).
    assert_eq!(images.len(), pictures.len(), "{listed}");
    for ((_, w, h), (name, width, height)) in images.iter().zip(&pictures) {
        let (placed, drawn) = (*h as f64 / *w as f64, *height as f64 / *width as f64);
        assert!(
            (placed - drawn).abs() < 0.01,
            "{name}: {w}x{h} for {width}x{height}"
        );
    }
    let pages: u32 = rendered.field("Pages:").parse().unwrap();
    let first = images[0].0;
    assert!(first > 1 && first <= pages, "{first} of {pages}");
    let kept = rendered.keep_page(first, 60, "plan-roadmap-docx.png");
    eprintln!("the plan's road map (page {first} of {pages}) as LibreOffice renders it: {kept}");
}
