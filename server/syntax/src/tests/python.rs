//! Python: decorated definitions (decorators and their comment in range), nested classes and
//! functions, class attributes, async functions, unicode names and a syntax error.

use super::{assert_symbols, range_text, sym};
use crate::{Language, file_symbols};

pub(super) const SRC: &str = r#""""Module docstring."""
import functools

MAX_SIZE = 100
_cache: dict = {}


# Comment about the decorator.
@functools.lru_cache(maxsize=None)
def cached(x):
    return x * 2


class Outer(Base):
    """Outer docs."""

    count = 0
    name: str = "x"

    def __init__(self, value):
        self.value = value

    @property
    def size(self):
        return 1

    @staticmethod
    @functools.cache
    def helper():
        pass

    class Inner:
        def method(self):
            def local():
                pass
            return local

    async def fetch(self):
        pass


async def main():
    pass


def größe():
    return 1


def broken(:
    pass


def after_error():
    pass
"#;

#[test]
fn name_paths_kinds_and_lines() {
    assert_symbols(
        Language::Python,
        SRC,
        &[
            ("MAX_SIZE", "constant", 4, 4),
            ("_cache", "constant", 5, 5),
            ("cached", "function", 8, 11),
            ("Outer", "class", 14, 39),
            ("Outer/count", "field", 17, 17),
            ("Outer/name", "field", 18, 18),
            ("Outer/__init__", "method", 20, 21),
            ("Outer/size", "method", 23, 25),
            ("Outer/helper", "method", 27, 30),
            ("Outer/Inner", "class", 32, 36),
            ("Outer/Inner/method", "method", 33, 36),
            ("Outer/Inner/method/local", "function", 34, 35),
            ("Outer/fetch", "method", 38, 39),
            ("main", "function", 42, 43),
            ("größe", "function", 46, 47),
            ("broken", "function", 50, 51),
            ("after_error", "function", 54, 55),
        ],
    );
}

#[test]
fn decorators_and_their_comment_are_in_range() {
    let file = file_symbols(Language::Python, SRC);
    let cached = range_text(SRC, sym(&file, "cached"));
    assert!(cached.starts_with("# Comment about the decorator.\n@functools.lru_cache"));
    let helper = range_text(SRC, sym(&file, "Outer/helper"));
    assert!(helper.starts_with("@staticmethod\n    @functools.cache\n    def helper"));
    let decl = &SRC[sym(&file, "Outer/helper").decl_range.clone()];
    assert!(
        decl.starts_with("def helper"),
        "decl_range is the bare definition"
    );
    let body = sym(&file, "Outer").body.clone().expect("class body");
    assert!(SRC[body].starts_with("\"\"\"Outer docs."));
}
