; Jingu symbol query for TypeScript and TSX (JavaScript's definitions plus TS-only ones).
; Overload signatures and the implementation share a name path and get `[N]` suffixes.
(class_declaration name: (_) @name body: (_) @body) @definition.class
(abstract_class_declaration name: (_) @name body: (_) @body) @definition.class
(function_declaration name: (identifier) @name body: (_) @body) @definition.function
(function_signature name: (identifier) @name) @definition.function
(generator_function_declaration name: (identifier) @name body: (_) @body) @definition.function
(method_definition name: (_) @name body: (_) @body (#eq? @name "constructor")) @definition.constructor
(method_definition name: (_) @name body: (_) @body (#not-eq? @name "constructor")) @definition.method
(method_signature name: (_) @name) @definition.method
(abstract_method_signature name: (_) @name) @definition.method
(construct_signature) @definition.constructor @name
(variable_declarator name: (identifier) @name value: [(arrow_function body: (_) @body) (function_expression body: (_) @body) (generator_function body: (_) @body)]) @definition.function
(variable_declarator name: (identifier) @name value: (class body: (_) @body)) @definition.class
(lexical_declaration kind: "const" (variable_declarator name: (identifier) @name value: [(number) (string) (template_string) (object) (array) (true) (false) (null) (undefined) (regex) (identifier) (call_expression) (new_expression) (member_expression) (subscript_expression) (binary_expression) (unary_expression) (ternary_expression) (await_expression) (as_expression) (satisfies_expression)]) @definition.constant)
(interface_declaration name: (_) @name body: (_) @body) @definition.interface
(type_alias_declaration name: (_) @name) @definition.type
(enum_declaration name: (_) @name body: (_) @body) @definition.enum
(enum_body [(property_identifier) (string)] @name @definition.variant)
(enum_body (enum_assignment name: (_) @name) @definition.variant)
(internal_module name: (_) @name body: (_) @body) @definition.module
(module name: (_) @name body: (_) @body) @definition.module
(public_field_definition name: (_) @name) @definition.field
(interface_body (property_signature name: (_) @name) @definition.field)
; Error recovery turns declarations after a syntax error into expressions: keep them.
(ERROR (function_expression name: (identifier) @name body: (_) @body) @definition.function)
(ERROR (class name: (_) @name body: (_) @body) @definition.class)
