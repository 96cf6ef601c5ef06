fn main() {
    fieldsync::cli::out::install_panic_hook();
    if std::env::var_os("FIELDSYNC_DEBUG_PANIC").is_some() {
        // A debugging aid (and the test of exit 70): shows what an officer sees on a bug.
        panic!("FIELDSYNC_DEBUG_PANIC is set");
    }
    let cli = fieldsync::cli::help::parse();
    let code = match fieldsync::cli::run(cli) {
        Ok(code) => code,
        Err(f) if f.is_quiet() => f.code,
        Err(f) => {
            fieldsync::errln!("fieldsync: {}", f.message);
            f.code
        }
    };
    std::process::exit(code);
}
