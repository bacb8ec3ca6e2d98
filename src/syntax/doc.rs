//! A small pretty-printing document (Wadler / Prettier style) and its layout at a fixed
//! width: groups print on one line when they fit and break at every line of theirs
//! otherwise; trailing comments wait for the end of their line.

/// The width lines are laid out to.
pub const WIDTH: usize = 100;

/// A document to lay out.
#[derive(Debug, Clone)]
pub enum Doc {
    Nil,
    Text(String),
    /// A space, or a line break when its group breaks.
    Line,
    /// Nothing, or a line break when its group breaks.
    SoftLine,
    /// Always a line break.
    Hard,
    /// A line break unless the current line is still empty (before an own-line comment).
    Fresh,
    /// Its contents indented by two more spaces after each line break.
    Indent(Box<Doc>),
    /// One line if it fits (and holds no forced break), else broken at its lines.
    Group {
        doc: Box<Doc>,
        hard: bool,
    },
    Concat(Vec<Doc>),
    /// A trailing comment: written at the end of the line it lands on.
    Suffix(String),
    /// Text written only when the enclosing group is on one line.
    IfFlat(String),
    /// Forces every enclosing group to break; prints nothing.
    Break,
}

impl Doc {
    /// A text piece.
    pub fn text(s: impl Into<String>) -> Doc {
        Doc::Text(s.into())
    }

    /// An indented document.
    pub fn indent(d: Doc) -> Doc {
        Doc::Indent(Box::new(d))
    }

    /// A group; it breaks when it holds a forced break.
    pub fn group(d: Doc) -> Doc {
        let hard = d.forces_break();
        Doc::Group {
            doc: Box::new(d),
            hard,
        }
    }

    /// Whether this document forces its enclosing groups to break.
    fn forces_break(&self) -> bool {
        match self {
            Doc::Hard | Doc::Break => true,
            Doc::Group { hard, .. } => *hard,
            Doc::Indent(d) => d.forces_break(),
            Doc::Concat(v) => v.iter().any(Doc::forces_break),
            _ => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Flat,
    Break,
}

/// One output line: the code and the trailing comment that ends it.
struct OutLine {
    code: String,
    comment: Option<String>,
}

/// Lays `doc` out and returns the text; trailing comments of consecutive lines are
/// aligned in one column.
pub fn layout(doc: &Doc) -> String {
    let mut p = Printer {
        lines: Vec::new(),
        cur: String::new(),
        col: 0,
        suffix: Vec::new(),
    };
    p.print(doc, Mode::Break);
    if !p.cur.trim().is_empty() || !p.suffix.is_empty() {
        p.newline(0);
    }
    render(&p.lines)
}

/// Lays `doc` out on one line, whatever its width (hard line breaks, which only
/// comments make, become spaces).
pub fn layout_flat(doc: &Doc) -> String {
    let mut p = Printer {
        lines: Vec::new(),
        cur: String::new(),
        col: 0,
        suffix: Vec::new(),
    };
    p.print(doc, Mode::Flat);
    p.newline(0);
    let text: Vec<&str> = p.lines.iter().map(|l| l.code.trim()).collect();
    text.join(" ")
}

struct Printer {
    lines: Vec<OutLine>,
    cur: String,
    col: usize,
    suffix: Vec<String>,
}

impl Printer {
    fn print(&mut self, doc: &Doc, mode: Mode) {
        let mut cmds: Vec<(usize, Mode, &Doc)> = vec![(0, mode, doc)];
        while let Some((ind, mode, d)) = cmds.pop() {
            match d {
                Doc::Nil | Doc::Break => {}
                Doc::Text(s) => self.push(s),
                Doc::Line => match mode {
                    Mode::Flat => self.push(" "),
                    Mode::Break => self.newline(ind),
                },
                Doc::SoftLine => {
                    if mode == Mode::Break {
                        self.newline(ind);
                    }
                }
                Doc::Hard => self.newline(ind),
                Doc::Fresh => {
                    if !self.cur.trim().is_empty() {
                        self.newline(ind);
                    }
                }
                Doc::Indent(x) => cmds.push((ind + 2, mode, x)),
                Doc::Group { doc, hard } => {
                    let flat = !hard
                        && (mode == Mode::Flat
                            || fits(doc, &cmds, WIDTH as isize - self.col as isize));
                    let m = if flat { Mode::Flat } else { Mode::Break };
                    cmds.push((ind, m, doc));
                }
                Doc::Concat(v) => cmds.extend(v.iter().rev().map(|x| (ind, mode, x))),
                Doc::Suffix(s) => self.suffix.push(s.clone()),
                Doc::IfFlat(s) => {
                    if mode == Mode::Flat {
                        self.push(s);
                    }
                }
            }
        }
    }

    fn push(&mut self, s: &str) {
        self.cur.push_str(s);
        self.col += s.chars().count();
    }

    fn newline(&mut self, ind: usize) {
        let code = self.cur.trim_end().to_string();
        let comment = if self.suffix.is_empty() {
            None
        } else {
            Some(std::mem::take(&mut self.suffix).join("  "))
        };
        self.lines.push(OutLine { code, comment });
        self.cur = " ".repeat(ind);
        self.col = ind;
    }
}

/// Whether `doc` fits flat in `width` columns, followed by what comes after it up to the
/// next line break.
fn fits(doc: &Doc, rest: &[(usize, Mode, &Doc)], width: isize) -> bool {
    let mut w = width;
    let mut stack: Vec<(Mode, &Doc)> = vec![(Mode::Flat, doc)];
    let mut rest_idx = rest.len();
    loop {
        let Some((mode, d)) = stack.pop() else {
            if rest_idx == 0 {
                return true;
            }
            rest_idx -= 1;
            if let Some((_, m, d)) = rest.get(rest_idx) {
                stack.push((*m, d));
            }
            continue;
        };
        match d {
            Doc::Text(s) => w -= s.chars().count() as isize,
            Doc::Line => match mode {
                Mode::Flat => w -= 1,
                Mode::Break => return true,
            },
            Doc::SoftLine => {
                if mode == Mode::Break {
                    return true;
                }
            }
            Doc::Hard => return true,
            Doc::IfFlat(s) => {
                if mode == Mode::Flat {
                    w -= s.chars().count() as isize;
                }
            }
            Doc::Indent(x) => stack.push((mode, x)),
            Doc::Group { doc, hard } => {
                stack.push((if *hard { Mode::Break } else { mode }, doc));
            }
            Doc::Concat(v) => stack.extend(v.iter().rev().map(|x| (mode, x))),
            Doc::Nil | Doc::Fresh | Doc::Suffix(_) | Doc::Break => {}
        }
        if w < 0 {
            return false;
        }
    }
}

/// The most that the code of lines whose trailing comments are aligned may differ in
/// width; a longer or shorter line starts a new run.
const ALIGN_SPREAD: usize = 30;

/// Joins the lines, aligning the trailing comments of each run of consecutive lines
/// that have one and whose code is of similar width.
fn render(lines: &[OutLine]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while let Some(line) = lines.get(i) {
        if line.comment.is_none() {
            out.push_str(&line.code);
            out.push('\n');
            i += 1;
            continue;
        }
        let mut run: Vec<&OutLine> = Vec::new();
        let (mut lo, mut hi) = (usize::MAX, 0);
        for l in lines.get(i..).unwrap_or_default() {
            let w = l.code.chars().count();
            if l.comment.is_none() || (!run.is_empty() && hi.max(w) - lo.min(w) > ALIGN_SPREAD) {
                break;
            }
            lo = lo.min(w);
            hi = hi.max(w);
            run.push(l);
        }
        let column = hi;
        for l in &run {
            out.push_str(&l.code);
            if let Some(c) = &l.comment {
                if !l.code.is_empty() {
                    let pad = column - l.code.chars().count() + 2;
                    out.push_str(&" ".repeat(pad));
                }
                out.push_str(c);
            }
            out.push('\n');
        }
        i += run.len();
    }
    out
}
