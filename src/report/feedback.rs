//! The public pages of public supervision (公众监督): the bulletin's feedback form, its QR
//! code and the answers the unit published; the receipt page (查询码); the answer to a form
//! post. Plain HTML (no script: it works under the pages' CSP and in any phone's browser),
//! every value escaped by maud. Names and contacts of senders are never passed here.

use maud::{Markup, PreEscaped, html};

use super::{Snapshot, chinese_date};

/// A published reply as the public sees it.
pub struct PublicReply {
    pub on: chrono::NaiveDate,
    pub text: String,
}

/// Feedback with its published replies, as the public sees it (no sender).
pub struct PublicAnswer {
    pub problem_no: Option<i32>,
    pub content: String,
    pub replies: Vec<PublicReply>,
}

/// What the bulletin's page adds: the form with its challenge, the QR code, the answers.
pub struct BulletinExtras {
    pub bulletin_id: i32,
    pub question: String,
    pub token: String,
    /// The numbers (序号) the bulletin prints, for the form's choice.
    pub numbers: Vec<i32>,
    /// The feedback link: absolute with a configured public address, else relative.
    pub link: String,
    /// The QR code of `link`, as an SVG element; none without a public address.
    pub qr_svg: Option<String>,
    pub answers: Vec<PublicAnswer>,
}

/// The QR code of `link` as an inline SVG element (no XML declaration), or `None` when the
/// link is too long for a QR code.
pub fn qr_svg(link: &str) -> Option<String> {
    let code = qrcode::QrCode::with_error_correction_level(link, qrcode::EcLevel::M).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(160, 160)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build();
    svg.find("<svg").map(|start| svg[start..].to_owned())
}

fn answers(items: &[PublicAnswer]) -> Markup {
    html! {
        @for a in items {
            div class="answer" {
                p class="asked" {
                    @if let Some(n) = a.problem_no { "关于第 " (n) " 个问题：" }
                    (a.content)
                }
                @for r in &a.replies {
                    p class="reply" { "答复（" (chinese_date(r.on)) "）：" (r.text) }
                }
            }
        }
    }
}

/// The form (no script), the QR code and the published answers, after the bulletin's text.
pub fn bulletin_part(x: &BulletinExtras) -> Markup {
    html! {
        // Not one of the bulletin's numbered sections (一、二、三、), so not a heading of it.
        section id="feedback" class="feedback" {
            p class="supervision" { "公众监督" }
            @if let Some(svg) = &x.qr_svg {
                figure class="qr" {
                    (PreEscaped(svg))
                    figcaption { "扫码反馈意见建议：" (x.link) }
                }
            } @else {
                // Said on screen, not on paper: the operator has a setting to make.
                p class="meta noprint" id="no-qr" {
                    "未设置对外访问地址（RECTRACK_PUBLIC_URL），本页不打印反馈二维码。"
                }
            }
            @if !x.answers.is_empty() {
                p class="supervision" { "已公开的答复" }
                (answers(&x.answers))
            }
            form class="noprint" method="post" action={ "/public/bulletins/" (x.bulletin_id) "/feedback" }
                accept-charset="utf-8" {
                p class="supervision" { "反馈意见建议" }
                p class="meta" { "您的姓名和联系方式只有本单位整改工作人员可见，不会公开。提交后请记下查询码，凭码查看答复。" }
                label for="content" { "意见建议（必填）" }
                textarea id="content" name="content" rows="6" maxlength="2000" required {}
                label for="problemNo" { "涉及的问题（可选）" }
                select id="problemNo" name="problemNo" {
                    option value="" { "不涉及具体问题" }
                    @for n in &x.numbers { option value=(n) { "第 " (n) " 个问题" } }
                }
                label for="senderName" { "姓名（可选）" }
                input id="senderName" name="senderName" maxlength="50";
                label for="contact" { "电话或电子邮箱（可选）" }
                input id="contact" name="contact" maxlength="100";
                label for="answer" { "验证题：" (x.question) }
                input id="answer" name="answer" inputmode="numeric" maxlength="4" required;
                input type="hidden" name="challenge" value=(x.token);
                button type="submit" { "提交" }
            }
        }
    }
}

/// The receipt page: the feedback's status and the published replies.
pub fn receipt_html(code: &str, status: &str, answer: &PublicAnswer, bulletin_id: i32) -> String {
    let body = html! {
        nav class="noprint" { a href={ "/public/bulletins/" (bulletin_id) } { "返回通报" } }
        h1 { "反馈查询" }
        p { "查询码：" span id="code" { (code) } }
        p { "办理状态：" span id="status" { (status) } }
        (answers(std::slice::from_ref(answer)))
        @if answer.replies.is_empty() { p class="meta" { "暂无公开答复。" } }
    };
    super::bulletin::page("反馈查询", body)
}

/// The answer to a form post: the receipt code to keep, or what was wrong.
pub fn posted_html(bulletin_id: i32, code: Option<&str>, error: Option<&str>) -> String {
    let body = html! {
        nav class="noprint" { a href={ "/public/bulletins/" (bulletin_id) "#feedback" } { "返回通报" } }
        @if let Some(code) = code {
            h1 { "反馈已收到" }
            p { "查询码：" strong id="code" { (code) } }
            p { "请记下查询码，凭码查看办理情况和答复：" a href={ "/public/feedback/" (code) } { "查看答复" } }
        }
        @if let Some(error) = error {
            h1 { "反馈未能提交" }
            p id="error" { (error) }
        }
    };
    super::bulletin::page("公众监督", body)
}

/// The public page of a published bulletin: its text, then public supervision (the form, the
/// QR code of its link, the answers the unit published).
pub fn public_html(s: &Snapshot, extras: &BulletinExtras) -> String {
    let body = html! { (super::bulletin::body(s)) (bulletin_part(extras)) };
    super::bulletin::page(&super::bulletin::title(s), body)
}
