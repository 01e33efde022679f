mod did;
mod its;
mod library;
mod synth;
