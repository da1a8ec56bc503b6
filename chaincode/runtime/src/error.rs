//! The one error type of this crate.

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A boxed error from an implementation of [`crate::StateView`] or
/// [`crate::Detector`] outside this crate.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong loading, running or governing chaincode.
///
/// Variants carry structured data so callers can match on them. Every
/// failure of a guest (trap, fuel, memory, misuse of the ABI) ends up here,
/// and the runtime stays usable afterwards.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    // ---- loading ----
    /// The bytes are not a WebAssembly module the engine accepts.
    #[error("invalid wasm module: {reason}")]
    InvalidModule {
        /// The validator's or compiler's description.
        reason: String,
    },
    /// The module has a start function, which would run code at
    /// instantiation, outside the metered entry point.
    #[error("module has a start function; chaincode may only run through its entry point")]
    StartFunction,
    /// The module imports something the host does not provide.
    #[error("module imports {module}::{name}, which the host does not provide")]
    UnknownImport {
        /// Import module name.
        module: String,
        /// Import field name.
        name: String,
    },
    /// A required export is missing or has the wrong type.
    #[error("module lacks export {name:?} of the right type")]
    MissingExport {
        /// The export's name.
        name: &'static str,
    },
    /// The module could not be linked against the host API (e.g. an import
    /// with the right name but the wrong signature).
    #[error("module does not link against the host API: {reason}")]
    Link {
        /// wasmtime's description.
        reason: String,
    },

    // ---- execution ----
    /// The invocation used up its fuel.
    #[error("out of fuel (limit {limit})")]
    OutOfFuel {
        /// The per-invocation fuel limit.
        limit: u64,
    },
    /// The guest tried to grow memory (or a table) beyond its limit.
    #[error("{what} limit exceeded: {requested} requested, {limit} allowed")]
    ResourceLimit {
        /// `"memory"` (bytes) or `"table"` (elements).
        what: &'static str,
        /// Size requested.
        requested: usize,
        /// Limit.
        limit: usize,
    },
    /// The wall-clock safety net interrupted the invocation.
    #[error("interrupted after the wall-clock limit of {limit:?}")]
    WallClock {
        /// The configured limit.
        limit: std::time::Duration,
    },
    /// The guest exhausted its call stack.
    #[error("wasm stack overflow")]
    StackOverflow,
    /// The guest trapped (a Rust panic in the guest is `UnreachableCodeReached`).
    #[error("chaincode trapped: {trap}")]
    Trap {
        /// The trap.
        trap: wasmtime::Trap,
    },
    /// The guest passed a pointer/length outside its memory.
    #[error("chaincode passed an out-of-bounds buffer ({ptr:#x}, {len} bytes)")]
    GuestMemory {
        /// Pointer.
        ptr: u32,
        /// Length.
        len: u32,
    },
    /// A key, value, event, response or log line exceeds its limit.
    #[error("{what} of {len} bytes exceeds the limit of {limit}")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// The entry point returned without setting a response.
    #[error("chaincode returned without a response")]
    NoResponse,
    /// Any other wasmtime failure (instantiation, pool exhaustion...).
    #[error("wasm engine error: {reason}")]
    Engine {
        /// wasmtime's description.
        reason: String,
    },

    // ---- state and host API ----
    /// A key is empty, or starts with `0x00` without being a composite key.
    #[error("invalid key")]
    InvalidKey,
    /// A host call argument is malformed.
    #[error("invalid argument to {call}")]
    InvalidArgument {
        /// The host call.
        call: &'static str,
    },
    /// The state backend failed.
    #[error("state backend: {0}")]
    State(#[source] BoxError),
    /// The detector refused a request.
    #[error("detector rejected model {model:?}: {reason}")]
    DetectRejected {
        /// Model id as text (lossy).
        model: String,
        /// Why.
        reason: &'static str,
    },
    /// The model chaincode needs (by hash, or active for its class) is not
    /// installed on this peer: the peer's fault, not the transaction's, so
    /// it ends the invocation instead of reaching the guest.
    #[error("model {model} is not installed on this peer")]
    ModelNotInstalled {
        /// Hex hash of the model.
        model: String,
    },
    /// The detector failed.
    #[error("detector: {0}")]
    Detect(#[source] BoxError),

    // ---- packages, install store, lifecycle ----
    /// Canonical encoding or decoding failed.
    #[error(transparent)]
    Codec(#[from] cryptanet_types::Error),
    /// A file operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The path.
        path: std::path::PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The package targets another ABI version.
    #[error("package built for ABI {found}, host speaks {expected}")]
    AbiVersion {
        /// ABI version in the package.
        found: u32,
        /// ABI version of this host.
        expected: u32,
    },
    /// A package id is malformed or does not match the package bytes.
    #[error("bad package id {package_id:?}")]
    BadPackageId {
        /// The id.
        package_id: String,
    },
    /// No package with this id is installed on this peer.
    #[error("package {package_id} is not installed")]
    NotInstalled {
        /// The id.
        package_id: String,
    },
    /// A chaincode definition is malformed.
    #[error("invalid chaincode definition: {reason}")]
    InvalidDefinition {
        /// What is wrong.
        reason: &'static str,
    },
    /// The definition's sequence is not the next one.
    #[error("{what} {name}: sequence {got} given, {expected} expected")]
    WrongSequence {
        /// What is defined ("chaincode", "model class").
        what: &'static str,
        /// Its name.
        name: String,
        /// The next sequence.
        expected: u64,
        /// The sequence given.
        got: u64,
    },
    /// Too few orgs approved exactly this definition.
    #[error("{what} {name}: {approved} of {orgs} orgs approved, {required} required")]
    NotEnoughApprovals {
        /// What is defined ("chaincode", "model class").
        what: &'static str,
        /// Its name.
        name: String,
        /// Orgs that approved the identical definition.
        approved: usize,
        /// Orgs in the channel.
        orgs: usize,
        /// Majority needed.
        required: usize,
    },
    /// No definition of this chaincode is committed.
    #[error("chaincode {name} is not committed")]
    NotCommitted {
        /// Chaincode name.
        name: String,
    },
    /// Bytes offered as a detection model are not one this peer can use.
    #[error("invalid model: {reason}")]
    InvalidModelBytes {
        /// What is wrong.
        reason: String,
    },
    /// An endorsement policy does not parse.
    #[error("endorsement policy syntax error at byte {position}: expected {expected}")]
    PolicySyntax {
        /// Byte offset of the problem.
        position: usize,
        /// What the parser expected there.
        expected: &'static str,
    },
}
