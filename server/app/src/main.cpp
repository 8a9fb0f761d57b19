#include "cli.hpp"

int main(int argc, char** argv) { return sipsite::app::run_cli(argc, argv); }
