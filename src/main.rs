use std::process::ExitCode;

use clap::Parser;
use kms_emulator::config::{AuditAction, Command};
use kms_emulator::{App, Config, app, operator, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    if let Some(Command::Reset(args)) = &config.command {
        return match operator::reset(&config, args, &mut std::io::stdout().lock()).await {
            Ok(_) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("kms-emulator reset: {error}");
                ExitCode::FAILURE
            }
        };
    }
    if let Some(Command::Snapshot(action)) = &config.command {
        return match operator::snapshot(&config, action, &mut std::io::stdout().lock()).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("kms-emulator snapshot: {error}");
                ExitCode::FAILURE
            }
        };
    }
    if let Some(Command::Audit(args)) = &config.command {
        if let Some(AuditAction::Verify) = args.action {
            return match operator::verify_audit(&config, &mut std::io::stdout().lock()).await {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => {
                    eprintln!("kms-emulator audit verify: the audit trail does not verify");
                    ExitCode::FAILURE
                }
                Err(error) => {
                    eprintln!("kms-emulator audit verify: {error}");
                    ExitCode::from(2)
                }
            };
        }
        return match operator::print_audit(&config, args, &mut std::io::stdout().lock()).await {
            Ok(_) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("kms-emulator audit: {error}");
                ExitCode::FAILURE
            }
        };
    }
    let _log_writer = telemetry::init(config.log_format);
    let app = match App::build(&config).await {
        Ok(app) => app,
        Err(error) => {
            eprintln!("kms-emulator: {error}");
            return ExitCode::FAILURE;
        }
    };
    print!("{}", app.banner());
    match app.run_until_stopped(app::shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("kms-emulator: server error: {error}");
            ExitCode::FAILURE
        }
    }
}
