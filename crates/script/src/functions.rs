//! stub
pub struct FunctionEngine;
