# fish completion for zdd-lock
complete -c zdd-lock -s h -l help -d 'Print usage'
complete -c zdd-lock -l json -d 'Standard output is the command'"'"'s alone'
complete -c zdd-lock -l lock-wait -x -d 'Wait for the deploy lock (seconds)'
complete -c zdd-lock -s q -l quiet -d 'Print errors only'
complete -c zdd-lock -s r -l root -r -a '(__fish_complete_directories)' -d 'The deploy root'
complete -c zdd-lock -s v -l verbose -d 'Say when the lock is taken and released'
complete -c zdd-lock -s V -l version -d 'Print the version'
complete -c zdd-lock -x -a '(__fish_complete_subcommand -- -r --root --lock-wait)'
