; Jingu symbol query for JavaScript. Captures: @definition.<kind> on the defining node, @name,
; optional @body. `export`/decorators and leading comments join the range in extract.rs.
(class_declaration name: (_) @name body: (_) @body) @definition.class
(function_declaration name: (identifier) @name body: (_) @body) @definition.function
(generator_function_declaration name: (identifier) @name body: (_) @body) @definition.function
(method_definition name: (_) @name body: (_) @body (#eq? @name "constructor")) @definition.constructor
(method_definition name: (_) @name body: (_) @body (#not-eq? @name "constructor")) @definition.method
(variable_declarator name: (identifier) @name value: [(arrow_function body: (_) @body) (function_expression body: (_) @body) (generator_function body: (_) @body)]) @definition.function
(variable_declarator name: (identifier) @name value: (class body: (_) @body)) @definition.class
(lexical_declaration kind: "const" (variable_declarator name: (identifier) @name value: [(number) (string) (template_string) (object) (array) (true) (false) (null) (undefined) (regex) (identifier) (call_expression) (new_expression) (member_expression) (subscript_expression) (binary_expression) (unary_expression) (ternary_expression) (await_expression)]) @definition.constant)
(field_definition property: [(property_identifier) (private_property_identifier)] @name) @definition.field
; Error recovery turns declarations after a syntax error into expressions: keep them.
(ERROR (function_expression name: (identifier) @name body: (_) @body) @definition.function)
(ERROR (class name: (identifier) @name body: (_) @body) @definition.class)
