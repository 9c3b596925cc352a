import './components/wp-app.ts';
