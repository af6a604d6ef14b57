//! Word documents as offices file them (GB/T 9704, 党政机关公文格式), written with `docx-rs`:
//! A4 with the standard's margins (top 37 mm, bottom 35 mm, left 28 mm, right 26 mm), the title
//! centred in 方正小标宋简体, body text in 仿宋_GB2312 三号 (16 pt) on a fixed 28 pt line,
//! headings 一、 in 黑体, （一） in 楷体_GB2312, 1. in 仿宋_GB2312 bold, page numbers as — 1 — in the
//! footer, the issuing body and date at the end, tables with a header row repeated on every page.
//!
//! Fonts are named as the offices' own templates name them (仿宋_GB2312 ...), on every run as
//! the East Asian font, and described in the font table with the GB2312 character set and an
//! alternative name (仿宋, 宋体 ...): a machine without the named font (Word on a recent Windows,
//! WPS, LibreOffice) substitutes a Chinese font of the same kind instead of a Latin one.
//!
//! Tables print whole, however long: each body row is laid out by docx-rs and written to XML at
//! once (kept deflated), and the rows are put into the document when it is packed, so that a
//! plan of thousands of rows holds their XML rather than docx-rs's tree of them (which passed
//! 780 MB for 14,000 rows).
//!
//! [`Official`] lays out one document; `bulletin.rs`, `progress.rs` and `plan.rs` say what each
//! document holds.

pub mod bulletin;
pub mod plan;
pub mod progress;

use docx_rs::xml::common::XmlVersion;
use docx_rs::xml::writer::{EmitterConfig, EventWriter, XmlEvent};
use docx_rs::{
    AlignmentType, BuildXML, Docx, FieldCharType, Footer, HeightRule, InstrPAGE, InstrText,
    LineSpacing, LineSpacingType, PageMargin, Paragraph, Pic, Run, RunFonts, Shading,
    SpecialIndentType, Style, StyleType, Table, TableCell, TableRow, WidthType,
};

use crate::error::{AppError, AppResult};
use crate::report::lists;

/// The title's font (小标宋), with the font a machine without it should use.
pub const TITLE_FONT: (&str, &str) = ("方正小标宋简体", "宋体");
/// Body text and 1. headings.
pub const BODY_FONT: (&str, &str) = ("仿宋_GB2312", "仿宋");
/// 一、 headings.
pub const HEADING_FONT: (&str, &str) = ("黑体", "SimHei");
/// （一） headings.
pub const SUBHEADING_FONT: (&str, &str) = ("楷体_GB2312", "楷体");
/// Page numbers (four-size half-width 宋体).
pub const NUMBER_FONT: (&str, &str) = ("宋体", "SimSun");

/// Twips per millimetre (1440 per inch).
const TWIPS_PER_MM: f64 = 1440.0 / 25.4;

fn mm(v: f64) -> i32 {
    (v * TWIPS_PER_MM).round() as i32
}

/// A4 in twips.
pub const A4: (u32, u32) = (11_906, 16_838);

/// The width text may take: 210 mm less the left (28 mm) and right (26 mm) margins.
pub fn text_width() -> i32 {
    A4.0 as i32 - mm(28.0) - mm(26.0)
}

/// 三号 (16 pt) in half-points.
pub const BODY_SIZE: usize = 32;
/// 二号 (22 pt): the title.
pub const TITLE_SIZE: usize = 44;
/// 四号 (14 pt): page numbers.
const NUMBER_SIZE: usize = 28;
/// 五号 (10.5 pt): table cells, so that a list's columns fit the page.
const TABLE_SIZE: usize = 21;
/// EMU (the unit of a picture's size) per twip.
const EMU_PER_TWIP: u32 = 635;
/// The tallest a picture is printed: the text's height (297 mm less 37 and 35 mm) less two
/// lines, so that a heading and the picture share a page.
const PICTURE_HEIGHT_MM: f64 = 205.0;

/// The paragraph style of table cells.
const CELL_STYLE: &str = "TableText";
/// A line of body text: fixed 28 pt (22 lines to the page, as the standard counts them).
const LINE: i32 = 560;
/// Two characters of body text (the first-line indent).
const TWO_CHARS: i32 = 640;

/// The height (twips, at least) given to a table's header row: it marks the row so that
/// [`Official::finish`] can make Word repeat it (`docx-rs` 0.4 has no property for that).
const HEADER_ROW_HEIGHT: u32 = 454;
const HEADER_ROW_MARK: &str = r#"<w:trHeight w:val="454" w:hRule="atLeast" />"#;

fn fonts(font: (&str, &str)) -> RunFonts {
    RunFonts::new()
        .ascii(font.0)
        .hi_ansi(font.0)
        .east_asia(font.0)
        .cs(font.0)
        .hint("eastAsia")
}

/// A run of text in `font` at `size` (half-points).
fn run(text: &str, font: (&str, &str), size: usize) -> Run {
    Run::new().add_text(text).fonts(fonts(font)).size(size)
}

fn spacing() -> LineSpacing {
    LineSpacing::new()
        .line_rule(LineSpacingType::Exact)
        .line(LINE)
}

/// A document being laid out.
pub struct Official {
    docx: Docx,
    /// The body rows of each table, in the document's order: docx-rs's XML of them, deflated.
    /// [`Official::finish`] puts each before its table's end.
    bodies: Vec<Vec<u8>>,
}

impl Default for Official {
    fn default() -> Self {
        Self::new()
    }
}

impl Official {
    /// An empty A4 document with the standard's margins, fonts and page numbers.
    pub fn new() -> Self {
        // — 1 —: the page number (a PAGE field) between dashes, all in 四号 宋体.
        let page = Run::new()
            .fonts(fonts(NUMBER_FONT))
            .size(NUMBER_SIZE)
            .add_field_char(FieldCharType::Begin, false)
            .add_instr_text(InstrText::PAGE(InstrPAGE {}))
            .add_field_char(FieldCharType::Separate, false)
            .add_text("1")
            .add_field_char(FieldCharType::End, false);
        let footer = Footer::new().add_paragraph(
            Paragraph::new()
                .align(AlignmentType::Center)
                .add_run(run("— ", NUMBER_FONT, NUMBER_SIZE))
                .add_run(page)
                .add_run(run(" —", NUMBER_FONT, NUMBER_SIZE)),
        );
        // Table cells take their font from a style rather than from each run: a list of
        // thousands of rows is a third of the size.
        let cell = Style::new(CELL_STYLE, StyleType::Paragraph)
            .name("表格文字")
            .fonts(fonts(BODY_FONT))
            .size(TABLE_SIZE)
            .line_spacing(
                LineSpacing::new()
                    .line_rule(LineSpacingType::Auto)
                    .line(240),
            );
        let docx = Docx::new()
            .page_size(A4.0, A4.1)
            .page_margin(
                PageMargin::new()
                    .top(mm(37.0))
                    .bottom(mm(35.0))
                    .left(mm(28.0))
                    .right(mm(26.0))
                    .header(mm(15.0))
                    .footer(mm(28.0) - mm(7.0)),
            )
            .default_fonts(fonts(BODY_FONT))
            .default_size(BODY_SIZE)
            .add_style(cell)
            .footer(footer);
        Self {
            docx,
            bodies: Vec::new(),
        }
    }

    fn add(&mut self, paragraph: Paragraph) {
        let docx = std::mem::take(&mut self.docx);
        self.docx = docx.add_paragraph(paragraph);
    }

    /// The title: centred, 小标宋 二号, with a blank line after it.
    pub fn title(&mut self, text: &str) {
        self.add(
            Paragraph::new()
                .align(AlignmentType::Center)
                .line_spacing(
                    LineSpacing::new()
                        .line_rule(LineSpacingType::Exact)
                        .line(700)
                        .after(LINE as u32),
                )
                .add_run(run(text, TITLE_FONT, TITLE_SIZE)),
        );
    }

    /// A line under the title, centred in body text (a report's period, a plan's unit).
    pub fn centred(&mut self, text: &str) {
        self.add(
            Paragraph::new()
                .align(AlignmentType::Center)
                .line_spacing(spacing())
                .add_run(run(text, BODY_FONT, BODY_SIZE)),
        );
    }

    /// A first-level heading (一、…) in 黑体.
    pub fn heading(&mut self, text: &str) {
        self.add(
            Paragraph::new()
                .line_spacing(spacing())
                .indent(
                    None,
                    Some(SpecialIndentType::FirstLine(TWO_CHARS)),
                    None,
                    None,
                )
                .outline_lvl(0)
                .keep_next(true)
                .add_run(run(text, HEADING_FONT, BODY_SIZE)),
        );
    }

    /// A second-level heading (（一）…) in 楷体.
    pub fn subheading(&mut self, text: &str) {
        self.add(
            Paragraph::new()
                .line_spacing(spacing())
                .indent(
                    None,
                    Some(SpecialIndentType::FirstLine(TWO_CHARS)),
                    None,
                    None,
                )
                .outline_lvl(1)
                .keep_next(true)
                .add_run(run(text, SUBHEADING_FONT, BODY_SIZE)),
        );
    }

    /// A paragraph opening with a third-level heading (1. …) in bold 仿宋, then `rest` as body
    /// text.
    pub fn item(&mut self, heading: &str, rest: &str) {
        self.led(run(heading, BODY_FONT, BODY_SIZE).bold(), rest);
    }

    /// A paragraph opening with a second-level heading run in (（一）… in 楷体), then `rest` as
    /// body text: the items of a bulletin's sections, whose heading and text share a paragraph.
    pub fn subitem(&mut self, heading: &str, rest: &str) {
        self.led(run(heading, SUBHEADING_FONT, BODY_SIZE), rest);
    }

    fn led(&mut self, heading: Run, rest: &str) {
        let mut p = Paragraph::new()
            .line_spacing(spacing())
            .indent(
                None,
                Some(SpecialIndentType::FirstLine(TWO_CHARS)),
                None,
                None,
            )
            .add_run(heading);
        if !rest.is_empty() {
            p = p.add_run(run(rest, BODY_FONT, BODY_SIZE));
        }
        self.add(p);
    }

    /// A paragraph of body text (仿宋 三号, the first line indented two characters).
    pub fn paragraph(&mut self, text: &str) {
        self.add(
            Paragraph::new()
                .line_spacing(spacing())
                .indent(
                    None,
                    Some(SpecialIndentType::FirstLine(TWO_CHARS)),
                    None,
                    None,
                )
                .add_run(run(text, BODY_FONT, BODY_SIZE)),
        );
    }

    /// A picture (PNG, `width` by `height` pixels) on a line of its own, centred, as wide as the
    /// text (narrower if it would be taller than [`PICTURE_HEIGHT_MM`]).
    pub fn picture(&mut self, png: Vec<u8>, width: u32, height: u32) {
        let full = text_width() as f64 * EMU_PER_TWIP as f64;
        let tallest = PICTURE_HEIGHT_MM * TWIPS_PER_MM * EMU_PER_TWIP as f64;
        let aspect = height.max(1) as f64 / width.max(1) as f64;
        let w = full.min(tallest / aspect);
        let pic = Pic::new_with_dimensions(png, width, height).size(w as u32, (w * aspect) as u32);
        // Single line spacing: a fixed line (the body's 28 pt) would cut the picture to it.
        self.add(
            Paragraph::new()
                .align(AlignmentType::Center)
                .line_spacing(
                    LineSpacing::new()
                        .line_rule(LineSpacingType::Auto)
                        .line(240),
                )
                .add_run(Run::new().add_image(pic)),
        );
    }

    /// The issuing body and the date at the end: a blank line, then both to the right, the
    /// date four characters from the margin and the body centred above it (as 成文日期 and
    /// 发文机关署名 stand).
    pub fn signature(&mut self, issuer: &str, date: &str) {
        self.add(Paragraph::new().line_spacing(spacing()));
        // The issuer's line centred over the date: both end the same distance from the
        // margin, the shorter one further in by half the difference in length.
        let chars = |s: &str| s.chars().count() as i32;
        let date_end = 2 * TWO_CHARS;
        let issuer_end = date_end + ((chars(date) - chars(issuer)).max(0) * TWO_CHARS / 4);
        for (text, end) in [(issuer, issuer_end), (date, date_end)] {
            self.add(
                Paragraph::new()
                    .align(AlignmentType::Right)
                    .line_spacing(spacing())
                    .indent(None, None, Some(end), None)
                    .add_run(run(text, BODY_FONT, BODY_SIZE)),
            );
        }
    }

    /// A list as a table: the header row (repeated on every page), each group's heading across
    /// the row, then its rows, every one of them; columns as wide as the list's columns are in
    /// proportion.
    pub fn table(&mut self, table: &lists::Table) -> AppResult<()> {
        use std::io::Write;
        let total: f64 = table.columns.iter().map(|(_, w)| w).sum::<f64>().max(1.0);
        let widths: Vec<usize> = table
            .columns
            .iter()
            .map(|(_, w)| (w / total * text_width() as f64).floor() as usize)
            .collect();
        let cell = |text: &str, width: usize, bold: bool| {
            let mut p = Paragraph::new().style(CELL_STYLE);
            // Lines within a cell (a problem's title and description) as line breaks.
            let mut r = Run::new();
            for (k, line) in text.split('\n').enumerate() {
                if k > 0 {
                    r = r.add_break(docx_rs::BreakType::TextWrapping);
                }
                r = r.add_text(line);
            }
            if bold {
                r = r.bold();
            }
            p = p.add_run(r);
            TableCell::new()
                .add_paragraph(p)
                .width(width, WidthType::Dxa)
        };
        let header = TableRow::new(
            table
                .columns
                .iter()
                .zip(&widths)
                .map(|((name, _), w)| cell(name, *w, true).shading(Shading::new().fill("D9D9D9")))
                .collect(),
        )
        .row_height(HEADER_ROW_HEIGHT as f32)
        .height_rule(HeightRule::AtLeast)
        .cant_split();
        // The body, a row at a time: laid out, written and dropped (the deflater keeps a few
        // bytes of XML per kilobyte).
        let span = table.columns.len().max(1);
        let failed = |e: std::io::Error| AppError::internal(format!("a table's rows: {e}"));
        let mut body = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        for group in &table.groups {
            if let Some(heading) = &group.heading {
                let row = TableRow::new(vec![
                    cell(heading, widths.iter().sum(), true)
                        .grid_span(span)
                        .shading(Shading::new().fill("F2F2F2")),
                ])
                .cant_split();
                body.write_all(&row.build()).map_err(failed)?;
            }
            for r in &group.rows {
                let row = TableRow::new(
                    r.iter()
                        .zip(&widths)
                        .map(|(text, w)| cell(text, *w, false))
                        .collect(),
                );
                body.write_all(&row.build()).map_err(failed)?;
            }
        }
        self.bodies.push(body.finish().map_err(failed)?);
        let docx = std::mem::take(&mut self.docx);
        self.docx = docx.add_table(
            Table::new(vec![header])
                .set_grid(widths.clone())
                .width(widths.iter().sum(), WidthType::Dxa),
        );
        // A paragraph after the table, so that a heading or table that follows stands apart.
        self.add(Paragraph::new());
        Ok(())
    }

    /// The document as DOCX bytes.
    pub fn finish(self) -> AppResult<Vec<u8>> {
        let mut xml = self.docx.build();
        // A header row repeats on every page through <w:tblHeader/>, which docx-rs 0.4 cannot
        // write: the rows laid out as header rows carry a height no other row has, and get the
        // property beside it (CT_TrPr's properties come in any order).
        let document = String::from_utf8(std::mem::take(&mut xml.document))
            .map_err(|e| AppError::internal(format!("a document's XML: {e}")))?;
        let document = document.replace(
            HEADER_ROW_MARK,
            &format!("<w:tblHeader />{HEADER_ROW_MARK}"),
        );
        xml.document = numbered_pictures(&document).into_bytes();
        xml.font_table = font_table()?;
        let mut stored = std::io::Cursor::new(Vec::new());
        xml.pack(&mut stored)
            .map_err(|e| AppError::internal(format!("writing a document: {e}")))?;
        deflated(stored.into_inner(), &self.bodies)
    }
}

/// docx-rs gives every picture's drawing the same id (`wp:docPr id="1"`), where the ids of a
/// document's drawings are to be distinct (Word may report a document with repeated ones as
/// damaged): they are numbered 1, 2, 3 ... in order, and named 图1, 图2 ...
fn numbered_pictures(document: &str) -> String {
    const DRAWING: &str = r#"<wp:docPr id="1" name="Figure" />"#;
    let mut out = String::with_capacity(document.len());
    for (k, piece) in document.split(DRAWING).enumerate() {
        if k > 0 {
            out.push_str(&format!(r#"<wp:docPr id="{k}" name="图{k}" />"#));
        }
        out.push_str(piece);
    }
    out
}

/// The package `docx-rs` writes (its parts stored uncompressed) with every part deflated but
/// pictures (PNG is compressed already), and each table's body rows (`bodies`, in order) put
/// before the table's end in the document. The XML of a long list shrinks tenfold or more.
fn deflated(stored: Vec<u8>, bodies: &[Vec<u8>]) -> AppResult<Vec<u8>> {
    use std::io::{Read, Write};
    let failed =
        |e: &dyn std::fmt::Display| AppError::internal(format!("compressing a document: {e}"));
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(stored)).map_err(|e| failed(&e))?;
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let stored_options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut part = Vec::new();
    for k in 0..archive.len() {
        let mut entry = archive.by_index(k).map_err(|e| failed(&e))?;
        let name = entry.name().map_err(|e| failed(&e))?.into_owned();
        if entry.is_dir() {
            out.add_directory(name, options).map_err(|e| failed(&e))?;
            continue;
        }
        part.clear();
        entry.read_to_end(&mut part).map_err(|e| failed(&e))?;
        let picture = name.ends_with(".png");
        out.start_file(
            name.as_str(),
            if picture { stored_options } else { options },
        )
        .map_err(|e| failed(&e))?;
        if name != "word/document.xml" {
            out.write_all(&part).map_err(|e| failed(&e))?;
            continue;
        }
        // Markup in the document is docx-rs's own (text is escaped: a `<` a user wrote is
        // `&lt;`), so each `</w:tbl>` ends one of the tables, in the order they were added.
        const END: &[u8] = b"</w:tbl>";
        let mut rest = part.as_slice();
        let mut tables = bodies.iter();
        while let Some(at) = rest.windows(END.len()).position(|w| w == END) {
            out.write_all(&rest[..at]).map_err(|e| failed(&e))?;
            let body = tables
                .next()
                .ok_or_else(|| failed(&"more tables than were laid out"))?;
            std::io::copy(
                &mut flate2::read::DeflateDecoder::new(body.as_slice()),
                &mut out,
            )
            .map_err(|e| failed(&e))?;
            out.write_all(END).map_err(|e| failed(&e))?;
            rest = &rest[at + END.len()..];
        }
        out.write_all(rest).map_err(|e| failed(&e))?;
        if tables.next().is_some() {
            return Err(failed(&"fewer tables than were laid out"));
        }
    }
    Ok(out.finish().map_err(|e| failed(&e))?.into_inner())
}

/// The font table: the fonts the document names, each with the GB2312 character set and the
/// name of the font to use where it is missing (w:altName), written through docx-rs's own XML
/// writer (names and values are constants: nothing in them needs escaping).
fn font_table() -> AppResult<Vec<u8>> {
    let failed = |e: docx_rs::xml::writer::Error| AppError::internal(format!("font table: {e}"));
    let mut w = EmitterConfig::default().create_writer(Vec::new());
    w.write(XmlEvent::StartDocument {
        version: XmlVersion::Version10,
        encoding: Some("UTF-8"),
        standalone: Some(true),
    })
    .map_err(failed)?;
    w.write(
        XmlEvent::start_element("w:fonts")
            .attr(
                "xmlns:w",
                "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
            )
            .attr(
                "xmlns:r",
                "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
            ),
    )
    .map_err(failed)?;
    let empty = |w: &mut EventWriter<Vec<u8>>, name: &str, value: &str| {
        w.write(XmlEvent::start_element(name).attr("w:val", value))?;
        w.write(XmlEvent::end_element())
    };
    let chinese = [
        TITLE_FONT,
        BODY_FONT,
        HEADING_FONT,
        SUBHEADING_FONT,
        NUMBER_FONT,
    ];
    let mut entries: Vec<(&str, Option<&str>, &str, &str, &str)> = chinese
        .iter()
        .map(|(name, alt)| (*name, Some(*alt), "86", "modern", "fixed"))
        .collect();
    entries.push(("Times New Roman", None, "00", "roman", "variable"));
    for (name, alt, charset, family, pitch) in entries {
        w.write(XmlEvent::start_element("w:font").attr("w:name", name))
            .map_err(failed)?;
        if let Some(alt) = alt {
            empty(&mut w, "w:altName", alt).map_err(failed)?;
        }
        empty(&mut w, "w:charset", charset).map_err(failed)?;
        empty(&mut w, "w:family", family).map_err(failed)?;
        empty(&mut w, "w:pitch", pitch).map_err(failed)?;
        w.write(XmlEvent::end_element()).map_err(failed)?;
    }
    w.write(XmlEvent::end_element()).map_err(failed)?;
    w.into_inner().map_err(failed)
}

/// The media type of a Word document.
pub const MEDIA_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::Official;
    use crate::report::lists::{Group, Table};

    fn document(docx: &[u8]) -> String {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(docx)).unwrap();
        let mut xml = String::new();
        archive
            .by_name("word/document.xml")
            .unwrap()
            .read_to_string(&mut xml)
            .unwrap();
        xml
    }

    fn table(groups: &[(&str, usize)]) -> Table {
        Table {
            title: String::new(),
            sheet: "表",
            line: String::new(),
            columns: vec![("序号", 1.0), ("内容", 4.0)],
            groups: groups
                .iter()
                .map(|(heading, rows)| Group {
                    heading: Some((*heading).to_owned()),
                    rows: (1..=*rows)
                        .map(|n| vec![n.to_string(), format!("第{n}行</w:tbl>\n次行")])
                        .collect(),
                })
                .collect(),
        }
    }

    /// Every row prints, past any number, in its own table, in order; text that looks like a
    /// table's end is text.
    #[test]
    fn long_tables_print_every_row_in_place() {
        let mut doc = Official::new();
        doc.paragraph("前");
        doc.table(&table(&[("一、甲", 700), ("二、乙", 800)]))
            .unwrap();
        doc.paragraph("中");
        doc.table(&table(&[("三、丙", 3)])).unwrap();
        doc.paragraph("后");
        let xml = document(&doc.finish().unwrap());
        let tables: Vec<&str> = xml
            .split("<w:tbl>")
            .skip(1)
            .map(|t| &t[..t.find("</w:tbl>").unwrap()])
            .collect();
        assert_eq!(tables.len(), 2);
        assert_eq!(xml.matches("</w:tbl>").count(), 2);
        // The header, two headings and 1,500 rows; the header alone repeats on each page.
        assert_eq!(tables[0].matches("<w:tr>").count(), 1 + 2 + 1500);
        assert_eq!(tables[0].matches("<w:tblHeader />").count(), 1);
        assert_eq!(tables[1].matches("<w:tr>").count(), 1 + 1 + 3);
        let order = ["一、甲", "第700行", "二、乙", "第800行"]
            .map(|t| tables[0].find(t).unwrap_or_else(|| panic!("{t}")));
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
        assert!(tables[0].contains("第1行&lt;/w:tbl&gt;"));
        assert!(tables[0].contains(r#"<w:br w:type="textWrapping" />"#));
        let around = ["前", "中", "后"].map(|t| xml.find(&format!(">{t}<")).unwrap());
        assert!(around[0] < xml.find("<w:tbl>").unwrap());
        assert!(
            around[1] > xml.find("</w:tbl>").unwrap() && around[1] < xml.rfind("<w:tbl>").unwrap()
        );
        assert!(around[2] > xml.rfind("</w:tbl>").unwrap());
    }

    #[test]
    fn pictures_are_numbered_apart() {
        let drawing = r#"<wp:docPr id="1" name="Figure" />"#;
        let numbered = super::numbered_pictures(&format!("a{drawing}b{drawing}c"));
        assert_eq!(
            numbered,
            r#"a<wp:docPr id="1" name="图1" />b<wp:docPr id="2" name="图2" />c"#
        );
    }
}
