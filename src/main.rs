use clap::Parser;

fn main() {
    let cli = fieldsync::cli::Cli::parse();
    let code = match fieldsync::cli::run(cli) {
        Ok(code) => code,
        Err(f) => {
            eprintln!("fieldsync: {}", f.message);
            f.code
        }
    };
    std::process::exit(code);
}
