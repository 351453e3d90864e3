; Jingu symbol query for Rust.
; Captures: @definition.<kind> on the defining node, @name on its name, optional @body,
; and @trait on an impl's trait (named `impl Trait for Type`).

(struct_item name: (type_identifier) @name body: (_)? @body) @definition.struct
(enum_item name: (type_identifier) @name body: (_) @body) @definition.enum
(union_item name: (type_identifier) @name body: (_) @body) @definition.struct
(type_item name: (type_identifier) @name) @definition.type
(trait_item name: (type_identifier) @name body: (_) @body) @definition.trait
(impl_item trait: (_)? @trait type: (_) @name body: (_) @body) @definition.impl
(function_item name: (identifier) @name body: (_) @body) @definition.function
(function_signature_item name: (identifier) @name) @definition.function
(mod_item name: (identifier) @name body: (_)? @body) @definition.module
(macro_definition name: (identifier) @name) @definition.macro
(const_item name: (identifier) @name) @definition.constant
(static_item name: (identifier) @name) @definition.constant
(field_declaration_list (field_declaration name: (field_identifier) @name) @definition.field)
(enum_variant name: (identifier) @name body: (_)? @body) @definition.variant
