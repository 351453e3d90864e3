//! C++: namespaces, classes with overloaded and inline members, nested structs, out-of-line
//! members named under their class, templates, enum classes and aliases.

use super::{assert_symbols, range_text, sym};
use crate::{Language, file_symbols};

pub(super) const SRC: &str = r#"#include <vector>

#define MAX(a, b) ((a) > (b) ? (a) : (b))

namespace app {
namespace detail {

/// A widget.
class Widget : public Base {
public:
    Widget();
    ~Widget();
    void draw() const;
    int size() const { return n_; }
    void set(int v);
    void set(double v);
    Widget& operator=(const Widget&) = default;

    struct Inner {
        int x;
    };

private:
    int n_;
};

}  // namespace detail

// Draw it.
void detail::Widget::draw() const {
}

Widget::Widget() : n_(0) {}

template <typename T>
T max_of(const std::vector<T>& v) {
    return v[0];
}

enum class Color { Red, Green };

using Id = long;

}  // namespace app

int main(int argc, char** argv) {
    return 0;
}

static int* make_ptr() { return nullptr; }
"#;

#[test]
fn name_paths_kinds_and_lines() {
    assert_symbols(
        Language::Cpp,
        SRC,
        &[
            ("MAX", "macro", 3, 3),
            ("app", "namespace", 5, 44),
            ("app/detail", "namespace", 6, 27),
            ("app/detail/Widget", "class", 8, 25),
            ("app/detail/Widget/Widget", "constructor", 11, 11),
            ("app/detail/Widget/~Widget", "method", 12, 12),
            ("app/detail/Widget/draw[0]", "method", 13, 13),
            ("app/detail/Widget/size", "method", 14, 14),
            ("app/detail/Widget/set[0]", "method", 15, 15),
            ("app/detail/Widget/set[1]", "method", 16, 16),
            ("app/detail/Widget/Inner", "struct", 19, 21),
            ("app/detail/Widget/Inner/x", "field", 20, 20),
            ("app/detail/Widget/n_", "field", 24, 24),
            ("app/detail/Widget/draw[1]", "method", 29, 31),
            ("app/Widget/Widget", "constructor", 33, 33),
            ("app/max_of", "function", 35, 38),
            ("app/Color", "enum", 40, 40),
            ("app/Color/Red", "variant", 40, 40),
            ("app/Color/Green", "variant", 40, 40),
            ("app/Id", "type", 42, 42),
            ("main", "function", 46, 48),
            ("make_ptr", "function", 50, 50),
        ],
    );
}

#[test]
fn templates_comments_and_out_of_line_bodies() {
    let file = file_symbols(Language::Cpp, SRC);
    assert!(range_text(SRC, sym(&file, "app/max_of")).starts_with("template <typename T>"));
    assert!(range_text(SRC, sym(&file, "app/detail/Widget")).starts_with("/// A widget."));
    let draw = sym(&file, "app/detail/Widget/draw[1]");
    assert!(range_text(SRC, draw).starts_with("// Draw it.\nvoid detail::Widget::draw"));
    assert!(draw.body.is_some());
    assert!(sym(&file, "app/detail/Widget/draw[0]").body.is_none());
}
